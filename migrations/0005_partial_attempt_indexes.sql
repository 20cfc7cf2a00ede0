ALTER TABLE "billing_attempts" DROP CONSTRAINT "billing_attempts_emp_unique_id_unique";--> statement-breakpoint
DROP INDEX "billing_attempts_run_status_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "billing_attempts_emp_unique_id_uq" ON "billing_attempts" USING btree ("emp_unique_id") WHERE "billing_attempts"."emp_unique_id" is not null;--> statement-breakpoint
CREATE INDEX "billing_attempts_run_status_idx" ON "billing_attempts" USING btree ("billing_run_id","status") WHERE "billing_attempts"."billing_run_id" is not null;