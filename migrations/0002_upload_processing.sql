CREATE TABLE "upload_errors" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"upload_id" uuid NOT NULL,
	"row" integer NOT NULL,
	"column" text NOT NULL,
	"value" text NOT NULL,
	"code" text NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "format" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "encoding" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "delimiter" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "bytes_read" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "upload_errors" ADD CONSTRAINT "upload_errors_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "upload_errors_upload_row_idx" ON "upload_errors" USING btree ("upload_id","row","id");