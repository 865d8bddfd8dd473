-- Issue 17 (large organisations): every start looks for visitors still to seal (plaintext columns, written
-- before migration 0010) or to hash (sealed before 0019 / 0026): modules/orgs/personal-data.ts
-- sealPersonalData. Without an index that look was a scan of every visitor at every start (335 ms at 300,000
-- visitors). This partial index holds only such rows, so it is empty once they are done and the look is free.
CREATE INDEX IF NOT EXISTS "visitors_unsealed_idx" ON "visitors" ("id") WHERE
  "full_name" IS NOT NULL OR "email" IS NOT NULL OR "company" IS NOT NULL
  OR ("email_enc" IS NOT NULL AND "email_hash" IS NULL)
  OR ("phone_enc" IS NOT NULL AND "phone_hash" IS NULL)
  OR ("full_name_enc" IS NOT NULL AND "name_tokens" IS NULL);
