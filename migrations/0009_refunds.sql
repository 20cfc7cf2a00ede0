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
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_attempt_id_billing_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."billing_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refunds_attempt_idx" ON "refunds" USING btree ("attempt_id");--> statement-breakpoint
CREATE INDEX "refunds_open_idx" ON "refunds" USING btree ("status","updated_at") WHERE "refunds"."status" in ('pending', 'sending', 'unknown', 'submitted');--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_emp_unique_id_uq" ON "refunds" USING btree ("emp_unique_id") WHERE "refunds"."emp_unique_id" is not null;