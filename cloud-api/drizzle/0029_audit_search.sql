-- Issue 17 (large organisations): the audit log's `q` = an id (audit/service.ts listAudit) reads the object's
-- history, or what the user or the application of that id did, each newest first along an index of its own:
-- the object's without its kind (audit_logs_entity_idx leads with entity_type, which a pasted id does not
-- carry) and the application's. At two million audit rows an object's history took ~300 ms, a walk of the
-- organisation's rows; with these, a few milliseconds.
CREATE INDEX IF NOT EXISTS "audit_logs_entity_id_idx" ON "audit_logs" USING btree ("org_id","entity_id","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_app_idx" ON "audit_logs" USING btree ("org_id","actor_app_id","id");
