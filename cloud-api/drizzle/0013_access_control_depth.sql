-- Issue 14: access-control depth (anti-passback modes, holidays, escort, site modes, presence, alarms, OSDP keys).
ALTER TABLE "access_rules" ALTER COLUMN "anti_passback" DROP DEFAULT;
--> statement-breakpoint
ALTER TABLE "access_rules" ALTER COLUMN "anti_passback" TYPE text USING (CASE WHEN "anti_passback" THEN 'hard' ELSE 'off' END);
--> statement-breakpoint
ALTER TABLE "access_rules" ALTER COLUMN "anti_passback" SET DEFAULT 'hard';
--> statement-breakpoint
ALTER TABLE "access_rules" ADD COLUMN "passback_minutes" integer;
--> statement-breakpoint
ALTER TABLE "access_rules" ADD COLUMN "escort_seconds" integer DEFAULT 30 NOT NULL;
--> statement-breakpoint
ALTER TABLE "access_rules" ADD COLUMN "holidays" text DEFAULT 'observe' NOT NULL;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "escort" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "emergency" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "mode" text DEFAULT 'normal' NOT NULL;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "mode_reason" text;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "mode_changed_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "mode_changed_by" uuid;
--> statement-breakpoint
ALTER TABLE "checkins" ADD COLUMN "counted" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "checkins" ADD COLUMN "alert" text;
--> statement-breakpoint
ALTER TABLE "checkins" ADD COLUMN "alarm_kind" text;
--> statement-breakpoint
ALTER TABLE "checkins" ADD COLUMN "alarm_state" text;
--> statement-breakpoint
ALTER TABLE "checkins" ADD COLUMN "alarm_detail" text;
--> statement-breakpoint
CREATE TABLE "site_holidays" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "site_id" uuid NOT NULL REFERENCES "sites"("id"),
  "date" text NOT NULL,
  "kind" text NOT NULL,
  "name" text NOT NULL,
  "windows" jsonb DEFAULT '[]'::jsonb NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid,
  "deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "site_holidays_day_uq" ON "site_holidays" USING btree ("site_id", "date") WHERE "deleted_at" IS NULL;
--> statement-breakpoint
CREATE INDEX "site_holidays_org_idx" ON "site_holidays" USING btree ("org_id", "site_id", "date");
--> statement-breakpoint
CREATE TABLE "pass_presence" (
  "site_id" uuid NOT NULL,
  "pass_id" uuid NOT NULL,
  "org_id" uuid NOT NULL,
  "use_count" integer DEFAULT 0 NOT NULL,
  "inside_count" integer DEFAULT 0 NOT NULL,
  "last_direction" text,
  "last_at" timestamp with time zone,
  "last_gate_id" uuid,
  "last_zone_id" uuid,
  "last_checkin_id" uuid,
  "forgiven_at" timestamp with time zone,
  "forgiven_by" uuid,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "pass_presence_pk" PRIMARY KEY ("site_id", "pass_id")
);
--> statement-breakpoint
CREATE INDEX "pass_presence_inside_idx" ON "pass_presence" USING btree ("org_id", "site_id") WHERE "last_direction" = 'in';
--> statement-breakpoint
CREATE INDEX "pass_presence_pass_idx" ON "pass_presence" USING btree ("org_id", "pass_id");
--> statement-breakpoint
CREATE TABLE "alarms" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "site_id" uuid NOT NULL,
  "gate_id" uuid,
  "kind" text NOT NULL,
  "reader" text,
  "detail" text,
  "source_event_id" uuid,
  "status" text DEFAULT 'raised' NOT NULL,
  "raised_at" timestamp with time zone NOT NULL,
  "condition_cleared_at" timestamp with time zone,
  "acknowledged_at" timestamp with time zone,
  "acknowledged_by" uuid,
  "acknowledge_note" text,
  "cleared_at" timestamp with time zone,
  "cleared_by" uuid,
  "clear_note" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alarms_source_event_uq" ON "alarms" USING btree ("source_event_id");
--> statement-breakpoint
CREATE INDEX "alarms_org_status_idx" ON "alarms" USING btree ("org_id", "status", "raised_at");
--> statement-breakpoint
CREATE INDEX "alarms_open_condition_idx" ON "alarms" USING btree ("gate_id", "kind", "reader") WHERE "status" <> 'cleared';
--> statement-breakpoint
CREATE TABLE "osdp_reader_keys" (
  "gate_id" uuid NOT NULL REFERENCES "gates"("id"),
  "reader" text NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "scbk_enc" text NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid,
  CONSTRAINT "osdp_reader_keys_pk" PRIMARY KEY ("gate_id", "reader")
);
