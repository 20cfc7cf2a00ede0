ALTER TABLE "webhook_events" ADD COLUMN "source" text DEFAULT 'emp_api' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "confirm_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "emp_answer" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "effect_event_id" bigint;--> statement-breakpoint
CREATE INDEX "webhook_events_awaiting_confirmation_idx" ON "webhook_events" USING btree ("confirm_after","id") WHERE "webhook_events"."outcome" = 'awaiting_confirmation';
--> statement-breakpoint
-- Rows the edge forwarded (its dedup keys start with "emp:") were notifications; none keeps the signature, which with the unique_id is a replayable credential.
UPDATE "webhook_events" SET "source" = 'notification' WHERE "dedup_key" LIKE 'emp:%';--> statement-breakpoint
UPDATE "webhook_events" SET "payload" = "payload" - 'signature' WHERE "payload" ? 'signature';
