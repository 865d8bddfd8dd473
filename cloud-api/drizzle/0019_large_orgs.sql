-- Issue 17 (large organisations): exact search on a visitor's e-mail and phone through keyed hashes
-- (the values stay sealed; the start-up backfill hashes rows sealed before this migration), and the
-- indexes the list filters need at a million passes and ten million check-ins.
ALTER TABLE "visitors" ADD COLUMN "email_hash" text;--> statement-breakpoint
ALTER TABLE "visitors" ADD COLUMN "phone_hash" text;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "visitors_email_hash_idx" ON "visitors" USING btree ("org_id","email_hash");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "visitors_phone_hash_idx" ON "visitors" USING btree ("org_id","phone_hash");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "visit_passes_card_idx" ON "visit_passes" USING btree ("org_id","card_number");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "checkins_denied_idx" ON "checkins" USING btree ("org_id","id") WHERE not "checkins"."allow";
