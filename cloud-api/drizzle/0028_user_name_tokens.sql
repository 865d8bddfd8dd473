-- Issue 17 (large organisations): a host or user found by name although names are sealed, as visitors are
-- since 0026. name_tokens holds a keyed hash of each word of the name (modules/orgs/personal-data.ts
-- nameTokens, their own domain); `GET /hosts?q=Anna` matches on this GIN index. Users sealed before this
-- migration are sealed again at start-up (sealPersonalData), which hashes them; a rename now re-seals too.
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "name_tokens" text[];--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "users_name_tokens_idx" ON "users" USING gin ("name_tokens");
