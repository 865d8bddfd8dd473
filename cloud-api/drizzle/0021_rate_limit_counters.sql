-- Request counters shared by every cloud instance (auth/rate-limit-store.ts):
-- one row per limited key and fixed window, counted by one
-- INSERT … ON CONFLICT DO UPDATE … RETURNING. UNLOGGED: a counter lost in a
-- crash only forgives a minute of requests, and it spares the WAL a write
-- per counted request.
CREATE UNLOGGED TABLE "rate_limit_counters" (
	"key" text NOT NULL,
	"window_start" bigint NOT NULL,
	"count" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rate_limit_counters_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
CREATE INDEX "rate_limit_counters_expires_idx" ON "rate_limit_counters" USING btree ("expires_at");
