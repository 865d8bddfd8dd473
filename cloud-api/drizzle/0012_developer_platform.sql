-- Issue 13: the developer platform (applications, API keys, webhooks, usage).
ALTER TABLE "organizations" ADD COLUMN "sandbox_of" uuid REFERENCES "organizations"("id");
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "actor_app_id" uuid;
--> statement-breakpoint
CREATE TABLE "api_applications" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "name" text NOT NULL,
  "description" text,
  "sandbox" boolean DEFAULT false NOT NULL,
  "sandbox_org_id" uuid REFERENCES "organizations"("id"),
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid,
  "deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "api_applications_org_idx" ON "api_applications" USING btree ("org_id", "id");
--> statement-breakpoint
CREATE TABLE "api_keys" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "app_id" uuid NOT NULL REFERENCES "api_applications"("id"),
  "key_hash" text NOT NULL,
  "prefix" text NOT NULL,
  "scopes" jsonb NOT NULL,
  "rate_limit_per_minute" integer,
  "expires_at" timestamp with time zone,
  "revoked_at" timestamp with time zone,
  "last_used_at" timestamp with time zone,
  "rotated_from" uuid,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_uq" ON "api_keys" USING btree ("key_hash");
--> statement-breakpoint
CREATE INDEX "api_keys_app_idx" ON "api_keys" USING btree ("org_id", "app_id", "id");
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "app_id" uuid NOT NULL REFERENCES "api_applications"("id"),
  "event_org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "url" text NOT NULL,
  "events" jsonb NOT NULL,
  "description" text,
  "secret_enc" text NOT NULL,
  "status" text DEFAULT 'active' NOT NULL,
  "disabled_at" timestamp with time zone,
  "disabled_reason" text,
  "failing_since" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid,
  "deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "webhook_endpoints_app_idx" ON "webhook_endpoints" USING btree ("org_id", "app_id", "id");
--> statement-breakpoint
CREATE INDEX "webhook_endpoints_event_org_idx" ON "webhook_endpoints" USING btree ("event_org_id");
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "endpoint_id" uuid NOT NULL REFERENCES "webhook_endpoints"("id"),
  "app_id" uuid NOT NULL,
  "event_type" text NOT NULL,
  "payload" jsonb NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "attempts" integer DEFAULT 0 NOT NULL,
  "response_code" integer,
  "duration_ms" integer,
  "last_error" text,
  "job_id" text,
  "delivered_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("org_id", "endpoint_id", "id");
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_app_idx" ON "webhook_deliveries" USING btree ("app_id", "created_at");
--> statement-breakpoint
CREATE TABLE "api_usage" (
  "app_id" uuid NOT NULL REFERENCES "api_applications"("id"),
  "org_id" uuid NOT NULL,
  "day" text NOT NULL,
  "calls" bigint DEFAULT 0 NOT NULL,
  "errors" bigint DEFAULT 0 NOT NULL,
  CONSTRAINT "api_usage_pk" PRIMARY KEY ("app_id", "day")
);
