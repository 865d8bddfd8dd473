-- Issue 15 (SYNC-5): the controller's clock minus the cloud's, as its last status reported it.
ALTER TABLE "gates" ADD COLUMN "clock_skew_ms" integer;
