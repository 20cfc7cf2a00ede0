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
CREATE TABLE "refunds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"attempt_id" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"emp_unique_id" text,
	"emp_status" text,
	"error_code" text,
	"error_message" text,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_transaction_id_unique" UNIQUE("transaction_id"),
	CONSTRAINT "refunds_amount_positive" CHECK ("refunds"."amount_cents" > 0),
	CONSTRAINT "refunds_status_known" CHECK ("refunds"."status" in ('pending', 'sending', 'unknown', 'submitted', 'approved', 'declined', 'error'))
);
--> statement-breakpoint
ALTER TABLE "billing_runs" DROP CONSTRAINT "billing_runs_status_known";--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "transaction_type" text;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD COLUMN "mandate_id" bigint;--> statement-breakpoint
ALTER TABLE "billing_runs" ADD COLUMN "scheduled_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "billing_runs" ADD COLUMN "schedule_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "collection" text DEFAULT 'one_off' NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_attempt_id_billing_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."billing_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refunds_attempt_idx" ON "refunds" USING btree ("attempt_id");--> statement-breakpoint
CREATE INDEX "refunds_open_idx" ON "refunds" USING btree ("status","updated_at") WHERE "refunds"."status" in ('pending', 'sending', 'unknown', 'submitted');--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_emp_unique_id_uq" ON "refunds" USING btree ("emp_unique_id") WHERE "refunds"."emp_unique_id" is not null;--> statement-breakpoint
CREATE INDEX "billing_runs_scheduled_idx" ON "billing_runs" USING btree ("scheduled_for") WHERE "billing_runs"."status" = 'scheduled';--> statement-breakpoint
ALTER TABLE "billing_runs" ADD CONSTRAINT "billing_runs_status_known" CHECK ("billing_runs"."status" in ('scheduled', 'running', 'paused', 'completed', 'cancelled'));--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_collection_known" CHECK ("uploads"."collection" in ('one_off', 'recurring'));