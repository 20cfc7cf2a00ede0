CREATE TABLE "billing_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"selection" jsonb NOT NULL,
	"upload_id" uuid,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"paused_by" text,
	"pause_reason" text,
	"breaker_state" text DEFAULT 'closed' NOT NULL,
	"counts" jsonb,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paused_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "billing_runs_status_known" CHECK ("billing_runs"."status" in ('running', 'paused', 'completed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "hold_reason" text;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "vop_result" text;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "vop_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "not_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "billing_runs" ADD CONSTRAINT "billing_runs_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "billing_runs_created_at_idx" ON "billing_runs" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD CONSTRAINT "billing_attempts_billing_run_id_billing_runs_id_fk" FOREIGN KEY ("billing_run_id") REFERENCES "public"."billing_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "billing_attempts_run_status_idx" ON "billing_attempts" USING btree ("billing_run_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_attempts_retry_of_uq" ON "billing_attempts" USING btree ("retry_of") WHERE "billing_attempts"."retry_of" is not null;