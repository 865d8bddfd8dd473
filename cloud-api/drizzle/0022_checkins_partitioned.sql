-- Issue 17 item 4: check-ins partitioned by month (UTC) of occurred_at, so that a month past the
-- retention (CHECKINS_RETENTION_MONTHS) goes by DROP TABLE of its partition instead of a DELETE of
-- millions of rows, and a time-range list or the dashboard reads only the months it asks for.
-- Partitions are named checkins_yYYYYmMM; modules/checkins/partitions.ts creates the coming ones
-- at start and daily. The DEFAULT partition takes what no month partition covers (an edge whose
-- clock is wildly wrong, a month not created yet), so an event is never refused for its date.
--
-- The primary key is (id, occurred_at): a unique key of a partitioned table must hold the
-- partition key. Ingestion stays exactly once with `on conflict (id, occurred_at) do nothing`,
-- because an edge event is immutable: a re-delivered event carries the same UUIDv7 id and the
-- same occurred_at, so it meets its first copy in the same partition.
--
-- Existing rows are moved: the old table is renamed (its index and constraint names freed), the
-- partitioned one made with the same columns, defaults, key, foreign key and indexes, the months
-- that hold rows and the current one with the next three (partitions.ts PARTITIONS_AHEAD) made,
-- the rows copied, the old table dropped.
ALTER TABLE "checkins" RENAME TO "checkins_unpartitioned";--> statement-breakpoint
ALTER TABLE "checkins_unpartitioned" RENAME CONSTRAINT "checkins_pkey" TO "checkins_unpartitioned_pkey";--> statement-breakpoint
ALTER TABLE "checkins_unpartitioned" DROP CONSTRAINT "checkins_org_id_organizations_id_fk";--> statement-breakpoint
DROP INDEX "checkins_org_idx";--> statement-breakpoint
DROP INDEX "checkins_gate_idx";--> statement-breakpoint
DROP INDEX "checkins_pass_idx";--> statement-breakpoint
DROP INDEX "checkins_site_idx";--> statement-breakpoint
DROP INDEX "checkins_occurred_idx";--> statement-breakpoint
DROP INDEX "checkins_denied_idx";--> statement-breakpoint
CREATE TABLE "checkins" (
	"id" uuid NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"gate_id" uuid NOT NULL,
	"pass_id" uuid,
	"device_id" text,
	"type" text DEFAULT 'attempt' NOT NULL,
	"credential_kind" text DEFAULT 'none' NOT NULL,
	"direction" text NOT NULL,
	"allow" boolean NOT NULL,
	"reason" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"counted" boolean DEFAULT false NOT NULL,
	"alert" text,
	"alarm_kind" text,
	"alarm_state" text,
	"alarm_detail" text,
	CONSTRAINT "checkins_pkey" PRIMARY KEY ("id", "occurred_at")
) PARTITION BY RANGE ("occurred_at");--> statement-breakpoint
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "checkins_org_idx" ON "checkins" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "checkins_gate_idx" ON "checkins" USING btree ("org_id","gate_id","id");--> statement-breakpoint
CREATE INDEX "checkins_pass_idx" ON "checkins" USING btree ("org_id","pass_id","id");--> statement-breakpoint
CREATE INDEX "checkins_site_idx" ON "checkins" USING btree ("org_id","site_id","id");--> statement-breakpoint
CREATE INDEX "checkins_occurred_idx" ON "checkins" USING btree ("org_id","occurred_at");--> statement-breakpoint
CREATE INDEX "checkins_denied_idx" ON "checkins" USING btree ("org_id","id") WHERE not "allow";--> statement-breakpoint
CREATE TABLE "checkins_default" PARTITION OF "checkins" DEFAULT;--> statement-breakpoint
-- A month of rows dated before 2000 (an edge that booted with its clock at 1970) or after the
-- months made ahead stays in DEFAULT rather than getting a partition of its own per wild date.
DO $$
DECLARE
  m date;
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
BEGIN
  FOR m IN
    SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM "checkins_unpartitioned"
      WHERE occurred_at >= '2000-01-01 00:00:00+00'
        AND occurred_at < ((this_month + interval '4 months')::timestamp AT TIME ZONE 'UTC')
    UNION
    SELECT generate_series(this_month, this_month + interval '3 months', interval '1 month')::date
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "checkins" FOR VALUES FROM (%L) TO (%L)',
      'checkins_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM'),
      to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
      to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00'
    );
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "checkins" ("id", "org_id", "site_id", "gate_id", "pass_id", "device_id", "type", "credential_kind", "direction", "allow", "reason",
                        "occurred_at", "received_at", "created_at", "updated_at", "created_by", "updated_by", "counted", "alert", "alarm_kind",
                        "alarm_state", "alarm_detail")
  SELECT "id", "org_id", "site_id", "gate_id", "pass_id", "device_id", "type", "credential_kind", "direction", "allow", "reason",
         "occurred_at", "received_at", "created_at", "updated_at", "created_by", "updated_by", "counted", "alert", "alarm_kind",
         "alarm_state", "alarm_detail"
  FROM "checkins_unpartitioned";--> statement-breakpoint
DROP TABLE "checkins_unpartitioned";
