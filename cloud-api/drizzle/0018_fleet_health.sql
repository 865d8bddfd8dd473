-- Issue 16 (fleet health): what a controller's status reports beyond what gates kept, and the cloud's
-- watch over its outbox (the outbox_growing alarm).
ALTER TABLE "gates" ADD COLUMN "hardware" jsonb;--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "release_serial" integer;--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "outbox_rises" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "outbox_high_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "outbox_alarm_at" timestamp with time zone;
