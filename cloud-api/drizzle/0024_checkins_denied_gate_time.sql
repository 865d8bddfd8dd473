-- Issue 17: a gate's refused check-ins within a time range ("who was turned away at gate 3 this month"),
-- newest first. On (org, gate, occurred_at) the planner walks every check-in of the gate in the range to find
-- the refused ones (about 1 in 10) — all of them when there are none: ~390 ms for 166k rows at ten million
-- check-ins, ~25 ms with this partial index, which holds the refused rows only.
CREATE INDEX IF NOT EXISTS "checkins_denied_gate_time_idx" ON "checkins" USING btree ("org_id","gate_id","occurred_at") WHERE not "checkins"."allow";
