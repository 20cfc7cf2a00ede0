ALTER TABLE "billing_runs" DROP CONSTRAINT "billing_runs_status_known";--> statement-breakpoint
ALTER TABLE "billing_runs" ADD COLUMN "scheduled_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "billing_runs" ADD COLUMN "schedule_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "billing_runs_scheduled_idx" ON "billing_runs" USING btree ("scheduled_for") WHERE "billing_runs"."status" = 'scheduled';--> statement-breakpoint
ALTER TABLE "billing_runs" ADD CONSTRAINT "billing_runs_status_known" CHECK ("billing_runs"."status" in ('scheduled', 'running', 'paused', 'completed', 'cancelled'));