CREATE TABLE "mandates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mandate_key" text NOT NULL,
	"status" text DEFAULT 'awaiting_first' NOT NULL,
	"first_attempt_id" bigint,
	"first_unique_id" text,
	"ended_reason_code" text,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mandates_mandate_key_unique" UNIQUE("mandate_key"),
	CONSTRAINT "mandates_status_known" CHECK ("mandates"."status" in ('awaiting_first', 'active', 'ended'))
);
--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "transaction_type" text;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "mandate_id" bigint;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "collection" text DEFAULT 'one_off' NOT NULL;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_collection_known" CHECK ("uploads"."collection" in ('one_off', 'recurring'));