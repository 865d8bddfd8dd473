-- Issue 17 (large organisations): a gate's or a site's check-ins within a time range, newest first by
-- occurred_at (checkins/service.ts listCheckins): without these the planner walked the whole range's
-- (org, occurred_at) index filtering by gate, or every refused row by id and sorted them — p99 5-6.6 s for
-- gate + refused + since at ten million check-ins (bench:large).
CREATE INDEX IF NOT EXISTS "checkins_gate_time_idx" ON "checkins" USING btree ("org_id","gate_id","occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "checkins_site_time_idx" ON "checkins" USING btree ("org_id","site_id","occurred_at");
