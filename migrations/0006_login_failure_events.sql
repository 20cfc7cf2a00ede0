CREATE TABLE "login_failure_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"address" text NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "login_failure_events_failed_at_idx" ON "login_failure_events" USING btree ("failed_at");--> statement-breakpoint
CREATE INDEX "login_failure_events_address_idx" ON "login_failure_events" USING btree ("address","failed_at");--> statement-breakpoint
CREATE INDEX "login_failure_events_email_address_idx" ON "login_failure_events" USING btree ("email","address","failed_at");