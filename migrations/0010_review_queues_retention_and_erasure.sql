CREATE TABLE "review_decisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"item_id" text NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"decided_by" text NOT NULL,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "review_decisions_decision_known" CHECK ("review_decisions"."decision" in ('dismissed', 'blacklisted'))
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "blacklist" ADD COLUMN "iban_hash" text;--> statement-breakpoint
ALTER TABLE "debtors" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "files_deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "payload_reduced_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "review_decisions_item_uq" ON "review_decisions" USING btree ("queue","item_id");--> statement-breakpoint
CREATE INDEX "blacklist_active_iban_hash_idx" ON "blacklist" USING btree ("iban_hash") WHERE "blacklist"."removed_at" is null;