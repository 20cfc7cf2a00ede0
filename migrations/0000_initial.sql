CREATE TABLE "billing_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" text NOT NULL,
	"debtor_id" bigint NOT NULL,
	"upload_id" uuid,
	"billing_run_id" uuid,
	"amount_cents" bigint NOT NULL,
	"currency" char(3) DEFAULT 'EUR' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"emp_unique_id" text,
	"emp_status" text,
	"error_code" text,
	"error_message" text,
	"attempt_number" integer DEFAULT 1 NOT NULL,
	"retry_of" bigint,
	"history" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_attempts_transaction_id_unique" UNIQUE("transaction_id"),
	CONSTRAINT "billing_attempts_emp_unique_id_unique" UNIQUE("emp_unique_id"),
	CONSTRAINT "billing_attempts_amount_positive" CHECK ("billing_attempts"."amount_cents" > 0)
);
--> statement-breakpoint
CREATE TABLE "blacklist" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"iban" text NOT NULL,
	"reason" text NOT NULL,
	"reason_code" text,
	"source" text NOT NULL,
	"source_event_id" bigint,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"removed_by" text,
	"removal_reason" text
);
--> statement-breakpoint
CREATE TABLE "debtors" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"iban" text NOT NULL,
	"bic" text,
	"name" text NOT NULL,
	"name_original" text NOT NULL,
	"email" text,
	"address" jsonb,
	"mandate_reference" text,
	"mandate_date" date,
	"external_reference" text,
	"upload_id" uuid,
	"upload_row" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"file_key" text NOT NULL,
	"original_name" text NOT NULL,
	"content_type" text,
	"size_bytes" bigint,
	"checksum_sha256" char(64),
	"status" text DEFAULT 'created' NOT NULL,
	"column_mapping" jsonb,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"rows_accepted" integer DEFAULT 0 NOT NULL,
	"rows_rejected" integer DEFAULT 0 NOT NULL,
	"committed_row" integer DEFAULT 0 NOT NULL,
	"error_report_key" text,
	"error" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "uploads_file_key_unique" UNIQUE("file_key")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"dedup_key" text NOT NULL,
	"unique_id" text,
	"transaction_id" text,
	"transaction_type" text,
	"emp_status" text,
	"payload" jsonb NOT NULL,
	"trace_id" text,
	"received_at" timestamp with time zone NOT NULL,
	"processed_at" timestamp with time zone,
	"outcome" text NOT NULL,
	"error" text,
	"billing_attempt_id" bigint,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_events_dedup_key_unique" UNIQUE("dedup_key")
);
--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD CONSTRAINT "billing_attempts_debtor_id_debtors_id_fk" FOREIGN KEY ("debtor_id") REFERENCES "public"."debtors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_attempts" ADD CONSTRAINT "billing_attempts_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "debtors" ADD CONSTRAINT "debtors_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_billing_attempt_id_billing_attempts_id_fk" FOREIGN KEY ("billing_attempt_id") REFERENCES "public"."billing_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "billing_attempts_status_idx" ON "billing_attempts" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "billing_attempts_debtor_idx" ON "billing_attempts" USING btree ("debtor_id");--> statement-breakpoint
CREATE INDEX "billing_attempts_upload_idx" ON "billing_attempts" USING btree ("upload_id");--> statement-breakpoint
CREATE UNIQUE INDEX "blacklist_active_iban_uq" ON "blacklist" USING btree ("iban") WHERE "blacklist"."removed_at" is null;--> statement-breakpoint
CREATE INDEX "debtors_iban_idx" ON "debtors" USING btree ("iban");--> statement-breakpoint
CREATE UNIQUE INDEX "debtors_upload_row_uq" ON "debtors" USING btree ("upload_id","upload_row");--> statement-breakpoint
CREATE INDEX "uploads_created_at_idx" ON "uploads" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_events_outcome_idx" ON "webhook_events" USING btree ("outcome","received_at");--> statement-breakpoint
CREATE INDEX "webhook_events_unique_id_idx" ON "webhook_events" USING btree ("unique_id");--> statement-breakpoint
CREATE INDEX "webhook_events_transaction_id_idx" ON "webhook_events" USING btree ("transaction_id");