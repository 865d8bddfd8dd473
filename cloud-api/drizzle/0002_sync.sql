CREATE TABLE "gate_commands" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"org_id" uuid NOT NULL,
	"gate_id" uuid NOT NULL,
	"type" text NOT NULL,
	"reason" text,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid
);
--> statement-breakpoint
CREATE TABLE "sync_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"xid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"entity" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"seq" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "gate_commands_gate_idx" ON "gate_commands" USING btree ("org_id","gate_id","seq");--> statement-breakpoint
CREATE INDEX "sync_changes_site_seq_idx" ON "sync_changes" USING btree ("site_id","seq");--> statement-breakpoint
CREATE INDEX "sync_changes_unstamped_idx" ON "sync_changes" USING btree ("site_id","xid","id") WHERE "sync_changes"."seq" is null;