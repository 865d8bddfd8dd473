-- Issue 11 item 9: an e-mail names at most one live user per organisation
-- (not across tenants: an admin of one organisation must not learn that an
-- address exists in another).
DROP INDEX IF EXISTS "users_email_uq";
--> statement-breakpoint
CREATE UNIQUE INDEX "users_org_email_uq" ON "users" USING btree ("org_id", lower("email")) WHERE "users"."deleted_at" is null;
--> statement-breakpoint
-- Names, e-mails and companies are sealed at rest like phone and document
-- number (Sealer text in the *_enc columns); a user's e-mail is found by a keyed
-- hash of the lower-cased address (HMAC, its own HKDF subkey). Rows written
-- before are sealed by the application at start (modules/orgs/personal-data.ts),
-- which then clears the plaintext columns.
ALTER TABLE "users" ADD COLUMN "email_enc" text;
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "full_name_enc" text;
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_hash" text;
--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL;
--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "full_name" DROP NOT NULL;
--> statement-breakpoint
DROP INDEX IF EXISTS "users_org_email_uq";
--> statement-breakpoint
CREATE UNIQUE INDEX "users_org_email_hash_uq" ON "users" USING btree ("org_id", "email_hash") WHERE "users"."deleted_at" is null;
--> statement-breakpoint
CREATE INDEX "users_email_hash_idx" ON "users" USING btree ("email_hash");
--> statement-breakpoint
ALTER TABLE "visitors" ADD COLUMN "full_name_enc" text;
--> statement-breakpoint
ALTER TABLE "visitors" ADD COLUMN "email_enc" text;
--> statement-breakpoint
ALTER TABLE "visitors" ADD COLUMN "company_enc" text;
--> statement-breakpoint
ALTER TABLE "visitors" ALTER COLUMN "full_name" DROP NOT NULL;
