ALTER TABLE "uploads" ADD COLUMN "processing_by" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "processing_lease_until" timestamp with time zone;