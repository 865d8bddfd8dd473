-- Issue 12: the visitor's journey (invitations, guest sign-in, host portal,
-- notifications). The job queue itself lives in pg-boss's own schema
-- ("pgboss"), which pg-boss creates and migrates when the cloud starts.
ALTER TABLE "users" ADD COLUMN "language" text;
--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "address" text;
--> statement-breakpoint
ALTER TABLE "appointments" ADD COLUMN "site_id" uuid REFERENCES "sites"("id");
--> statement-breakpoint
ALTER TABLE "appointments" ADD COLUMN "language" text;
--> statement-breakpoint
ALTER TABLE "appointments" ADD COLUMN "invite" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "appointments" ADD COLUMN "reminder_job_id" text;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "language" text;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "invited_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "link_opened_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "signed_in_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "arrived_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "visit_passes" ADD COLUMN "left_at" timestamp with time zone;
--> statement-breakpoint
CREATE INDEX "visit_passes_appointment_idx" ON "visit_passes" USING btree ("org_id", "appointment_id");
--> statement-breakpoint
CREATE TABLE "org_settings" (
  "org_id" uuid PRIMARY KEY NOT NULL REFERENCES "organizations"("id"),
  "logo_url" text,
  "brand_color" text,
  "default_language" text DEFAULT 'en' NOT NULL,
  "reminder_lead_minutes" integer DEFAULT 120 NOT NULL,
  "guest_static_qr" boolean DEFAULT false NOT NULL,
  "host_invite_rule_id" uuid REFERENCES "access_rules"("id"),
  "telegram_bot_token_enc" text,
  "telegram_bot_username" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE TABLE "notifications" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "channel" text NOT NULL,
  "template" text NOT NULL,
  "language" text NOT NULL,
  "recipient_enc" text NOT NULL,
  "recipient_masked" text NOT NULL,
  "payload_enc" text NOT NULL,
  "user_id" uuid,
  "pass_id" uuid,
  "appointment_id" uuid,
  "status" text DEFAULT 'queued' NOT NULL,
  "attempts" integer DEFAULT 0 NOT NULL,
  "last_error" text,
  "job_id" text,
  "sent_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE INDEX "notifications_org_idx" ON "notifications" USING btree ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "notifications_status_idx" ON "notifications" USING btree ("org_id", "status", "id");
--> statement-breakpoint
CREATE INDEX "notifications_pass_idx" ON "notifications" USING btree ("org_id", "pass_id");
--> statement-breakpoint
CREATE TABLE "notification_templates" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL REFERENCES "organizations"("id"),
  "key" text NOT NULL,
  "language" text NOT NULL,
  "subject" text NOT NULL,
  "body" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  "created_by" uuid,
  "updated_by" uuid
);
--> statement-breakpoint
CREATE UNIQUE INDEX "notification_templates_uq" ON "notification_templates" USING btree ("org_id", "key", "language");
--> statement-breakpoint
CREATE TABLE "guest_codes" (
  "pass_id" uuid PRIMARY KEY NOT NULL REFERENCES "visit_passes"("id"),
  "org_id" uuid NOT NULL,
  "code_hash" text NOT NULL,
  "channel" text NOT NULL,
  "sent_to_masked" text NOT NULL,
  "attempts" integer DEFAULT 0 NOT NULL,
  "expires_at" timestamp with time zone NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_preferences" (
  "user_id" uuid PRIMARY KEY NOT NULL REFERENCES "users"("id"),
  "org_id" uuid NOT NULL,
  "channels" jsonb DEFAULT '["email"]'::jsonb NOT NULL,
  "telegram_chat_id_enc" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telegram_link_codes" (
  "code_hash" text PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL,
  "user_id" uuid NOT NULL REFERENCES "users"("id"),
  "expires_at" timestamp with time zone NOT NULL,
  "used_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_subscriptions" (
  "id" uuid PRIMARY KEY NOT NULL,
  "org_id" uuid NOT NULL,
  "user_id" uuid NOT NULL REFERENCES "users"("id"),
  "endpoint_hash" text NOT NULL,
  "subscription_enc" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "last_error" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "push_subscriptions_endpoint_uq" ON "push_subscriptions" USING btree ("endpoint_hash");
--> statement-breakpoint
CREATE INDEX "push_subscriptions_user_idx" ON "push_subscriptions" USING btree ("org_id", "user_id");
