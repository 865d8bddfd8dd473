-- Issue 17 (large organisations): a visitor found by name although names are sealed. name_tokens holds a
-- keyed hash of each word of the name (modules/orgs/personal-data.ts visitorNameTokens); `q=Ivan Petrov`
-- matches the visitors whose name has both words (array overlap per word, on this GIN index). Rows
-- written before this migration are hashed at start-up (sealPersonalData) like the e-mail and phone hashes.
ALTER TABLE "visitors" ADD COLUMN IF NOT EXISTS "name_tokens" text[];--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "visitors_name_tokens_idx" ON "visitors" USING gin ("name_tokens");
