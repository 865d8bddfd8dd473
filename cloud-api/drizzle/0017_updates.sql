-- Issue 16: the Update Manager — signed edge releases (installation-wide), rollouts per organisation, their per-gate
-- rows and log, release notices; each controller's update state (its release serial is 0018's);
-- each site's maintenance window.
ALTER TABLE "gates" ADD COLUMN "update_job_id" uuid;
--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "update_state" text;
--> statement-breakpoint
ALTER TABLE "gates" ADD COLUMN "update_reported_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "maintenance_days" jsonb;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "maintenance_from" text;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "maintenance_to" text;
--> statement-breakpoint
CREATE TABLE "update_packages" (
  "id" uuid PRIMARY KEY NOT NULL,
  "version" text NOT NULL,
  "serial" bigint NOT NULL,
  "channel" text NOT NULL,
  "kid" text NOT NULL,
  "signed" jsonb NOT NULL,
  "manifest" jsonb NOT NULL,
  "notes" text,
  "status" text DEFAULT 'incomplete' NOT NULL,
  "total_bytes" bigint NOT NULL,
  "expires_at" timestamp with time zone NOT NULL,
  "published_at" timestamp with time zone,
  "publisher_org_id" uuid,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE UNIQUE INDEX "update_packages_serial_uq" ON "update_packages" USING btree ("serial");
--> statement-breakpoint
CREATE UNIQUE INDEX "update_packages_version_uq" ON "update_packages" USING btree ("version");
--> statement-breakpoint
CREATE TABLE "update_package_files" (
  "package_id" uuid NOT NULL REFERENCES "update_packages"("id"),
  "idx" integer NOT NULL,
  "path" text NOT NULL,
  "platform" text,
  "sha256" text NOT NULL,
  "size" bigint NOT NULL,
  "uploaded_at" timestamp with time zone,
  CONSTRAINT "update_package_files_pk" PRIMARY KEY ("package_id", "idx")
);
--> statement-breakpoint
CREATE INDEX "update_package_files_path_idx" ON "update_package_files" USING btree ("package_id", "path");
--> statement-breakpoint
CREATE TABLE "update_jobs" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "package_id" uuid NOT NULL REFERENCES "update_packages"("id"),
  "scope" jsonb NOT NULL,
  "strategy" jsonb NOT NULL,
  "allow_downgrade" boolean DEFAULT false NOT NULL,
  "state" text NOT NULL,
  "stage" text DEFAULT 'canary' NOT NULL,
  "start_at" timestamp with time zone NOT NULL,
  "halted_reason" text,
  "finished_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE INDEX "update_jobs_org_idx" ON "update_jobs" USING btree ("org_id", "id");
--> statement-breakpoint
CREATE TABLE "update_job_gates" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "job_id" uuid NOT NULL REFERENCES "update_jobs"("id"),
  "gate_id" uuid NOT NULL REFERENCES "gates"("id"),
  "site_id" uuid NOT NULL REFERENCES "sites"("id"),
  "canary" boolean DEFAULT false NOT NULL,
  "batch" integer DEFAULT 0 NOT NULL,
  "state" text DEFAULT 'pending' NOT NULL,
  "detail" text,
  "from_version" text,
  "command_id" uuid,
  "dispatched_at" timestamp with time zone,
  "deadline_at" timestamp with time zone,
  "reported_at" timestamp with time zone,
  "report_ts" bigint,
  "postponed_until" timestamp with time zone,
  "finished_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "update_job_gates_uq" ON "update_job_gates" USING btree ("job_id", "gate_id");
--> statement-breakpoint
CREATE INDEX "update_job_gates_gate_idx" ON "update_job_gates" USING btree ("org_id", "gate_id");
--> statement-breakpoint
CREATE TABLE "update_logs" (
  "id" bigserial PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "job_id" uuid NOT NULL REFERENCES "update_jobs"("id"),
  "gate_id" uuid,
  "level" text DEFAULT 'info' NOT NULL,
  "message" text NOT NULL,
  "at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "update_logs_job_idx" ON "update_logs" USING btree ("org_id", "job_id", "id");
--> statement-breakpoint
CREATE TABLE "update_notices" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "package_id" uuid NOT NULL REFERENCES "update_packages"("id"),
  "running_version" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "update_notices_uq" ON "update_notices" USING btree ("org_id", "package_id");
