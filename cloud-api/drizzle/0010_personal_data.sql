-- Issue 11 item 9: an e-mail names at most one live user per organisation
-- (not across tenants: an admin of one organisation must not learn that an
-- address exists in another).
DROP INDEX IF EXISTS "users_email_uq";
--> statement-breakpoint
CREATE UNIQUE INDEX "users_org_email_uq" ON "users" USING btree ("org_id", lower("email")) WHERE "users"."deleted_at" is null;
