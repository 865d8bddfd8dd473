-- Sign-in attempt counters shared by every cloud instance (auth/rate-limit.ts).
-- One row per key (a keyed hash of account+address, of the address, or of the
-- account: no e-mail or address in clear), counted by one atomic
-- INSERT … ON CONFLICT DO UPDATE … RETURNING before the password is checked.
CREATE TABLE "login_throttle" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" integer NOT NULL,
	"blocked_until" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"last_refused" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX "login_throttle_expires_idx" ON "login_throttle" USING btree ("expires_at");
