/**
 * The JSON the API answers and accepts, as TypeScript types derived from the
 * route schemas (`modules/<name>/schema.ts`): what the server really sends,
 * said once. Type-only and so browser-safe: the console imports it as
 * `@gatehouse/cloud-api/api` and nothing of the server reaches its bundle.
 * Each type is named as its schema (`Rule` is exported as `AccessRule`, the
 * host portal's `Preferences` as `HostPreferences`, `LinkAnswer` as
 * `TelegramLink`, `SubscriptionCreated` as `PushSubscriptionCreated`).
 */
import type { Static } from 'typebox';
import type { Rule as AccessRuleSchema, RuleBody as RuleBodySchema, RulePatch as RulePatchSchema } from './modules/access-rules/schema.js';
import type { Alarm as AlarmSchema } from './modules/alarms/schema.js';
import type {
  AppointmentBody as AppointmentBodySchema,
  AppointmentPatch as AppointmentPatchSchema,
  Appointment as AppointmentSchema,
} from './modules/appointments/schema.js';
import type { AuditEntry as AuditEntrySchema } from './modules/audit/schema.js';
import type {
  LoginBody as LoginBodySchema,
  ProfilePatch as ProfilePatchSchema,
  RefreshBody as RefreshBodySchema,
  TokenPair as TokenPairSchema,
  UserSummary as UserSummarySchema,
} from './modules/auth/schema.js';
import type { Checkin as CheckinSchema, Dashboard as DashboardSchema, Occupancy as OccupancySchema } from './modules/checkins/schema.js';
import type { ConsoleConfig as ConsoleConfigSchema } from './modules/console/routes.js';
import type {
  ApiKey as ApiKeySchema,
  AppBody as AppBodySchema,
  AppPatch as AppPatchSchema,
  App as AppSchema,
  KeyBody as KeyBodySchema,
  NewKey as NewKeySchema,
  RotateBody as RotateBodySchema,
} from './modules/devconsole/schema.js';
import type { Usage as UsageSchema } from './modules/devconsole/usage-routes.js';
import type { FleetController as FleetControllerSchema, FleetList as FleetListSchema } from './modules/fleet/schema.js';
import type {
  CommandBody as CommandBodySchema,
  CommandResult as CommandResultSchema,
  Enrollment as EnrollmentSchema,
  GateBody as GateBodySchema,
  GatePatch as GatePatchSchema,
  Gate as GateSchema,
} from './modules/gates/schema.js';
import type { GuestPass as GuestPassSchema } from './modules/guest/routes.js';
import type { GuestCodeSent as GuestCodeSentSchema, GuestSessionAnswer as GuestSessionSchema } from './modules/guest-auth/routes.js';
import type { Holiday as HolidaySchema } from './modules/holidays/schema.js';
import type { PreferencesBody as HostPreferencesBodySchema, Preferences as HostPreferencesSchema } from './modules/host/preferences.js';
import type { PushKey as PushKeySchema, SubscriptionCreated as SubscriptionCreatedSchema } from './modules/host/push-routes.js';
import type {
  HostGuest as HostGuestSchema,
  HostVisit as HostVisitSchema,
  InvitationBody as InvitationBodySchema,
} from './modules/host/schema.js';
import type { LinkAnswer as TelegramLinkSchema } from './modules/host/telegram-routes.js';
import type {
  DeadJobItem as DeadJobItemSchema,
  JobStats as JobStatsSchema,
  QueueStat as QueueStatSchema,
  RetriedJob as RetriedJobSchema,
} from './modules/jobs/schema.js';
import type {
  MailMessageSchema,
  MailSummarySchema,
  NotificationItem as NotificationItemSchema,
  PreviewBody as PreviewBodySchema,
  Preview as PreviewSchema,
  TemplateBody as TemplateBodySchema,
  TemplateItem as TemplateItemSchema,
  TestBody as TestBodySchema,
} from './modules/notifications/schema.js';
import type {
  OrgSettingsPatch as OrgSettingsPatchSchema,
  OrgSettingsView as OrgSettingsViewSchema,
} from './modules/orgs/settings-routes.js';
import type {
  CheckBody as CheckBodySchema,
  CheckResult as CheckResultSchema,
  Credential as CredentialSchema,
  IssuedPass as IssuedPassSchema,
  PassBody as PassBodySchema,
  Pass as PassSchema,
  RevokeBody as RevokeBodySchema,
} from './modules/passes/schema.js';
import type { MusterItem as MusterItemSchema, Muster as MusterSchema } from './modules/presence/schema.js';
import type { SiteBody as SiteBodySchema, SitePatch as SitePatchSchema, Site as SiteSchema } from './modules/sites/schema.js';
import type { UpdateCompletedData, UpdateGateChangedData } from './modules/updates/events.js';
import type {
  Available as AvailableUpdatesSchema,
  MaintenanceWindowBody as MaintenanceWindowBodySchema,
  MaintenanceWindow as MaintenanceWindowSchema,
  PostponeBody as PostponeBodySchema,
  Release as ReleaseSchema,
  JobBody as UpdateJobBodySchema,
  JobDetail as UpdateJobDetailSchema,
  JobGate as UpdateJobGateSchema,
  Job as UpdateJobSchema,
  LogLines as UpdateLogLinesSchema,
} from './modules/updates/schema.js';
import type {
  Host as HostSchema,
  UserBody as UserBodySchema,
  UserPatch as UserPatchSchema,
  User as UserSchema,
} from './modules/users/schema.js';
import type {
  VisitorBody as VisitorBodySchema,
  VisitorPatch as VisitorPatchSchema,
  Visitor as VisitorSchema,
} from './modules/visitors/schema.js';
import type {
  DeliveryDetail as DeliveryDetailSchema,
  DeliveryItem as DeliveryItemSchema,
  EventCatalogue as EventCatalogueSchema,
  TestSent as TestSentSchema,
  WebhookCreated as WebhookCreatedSchema,
  WebhookCreate as WebhookCreateSchema,
  WebhookItem as WebhookItemSchema,
  WebhookPatch as WebhookPatchSchema,
  WebhookSecret as WebhookSecretSchema,
} from './modules/webhooks/schema.js';
import type { ZoneBody as ZoneBodySchema, ZonePatch as ZonePatchSchema, Zone as ZoneSchema } from './modules/zones/schema.js';

export type { Permission, Role } from './auth/rbac.js';

/** One page of a list (`Page(item)` in lib/pagination.ts). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type AccessRule = Static<typeof AccessRuleSchema>;
export type RuleBody = Static<typeof RuleBodySchema>;
export type RulePatch = Static<typeof RulePatchSchema>;
export type Appointment = Static<typeof AppointmentSchema>;
export type AppointmentBody = Static<typeof AppointmentBodySchema>;
export type AppointmentPatch = Static<typeof AppointmentPatchSchema>;
export type Alarm = Static<typeof AlarmSchema>;
export type AuditEntry = Static<typeof AuditEntrySchema>;
export type LoginBody = Static<typeof LoginBodySchema>;
export type RefreshBody = Static<typeof RefreshBodySchema>;
export type TokenPair = Static<typeof TokenPairSchema>;
export type UserSummary = Static<typeof UserSummarySchema>;
export type ProfilePatch = Static<typeof ProfilePatchSchema>;
export type Checkin = Static<typeof CheckinSchema>;
export type Dashboard = Static<typeof DashboardSchema>;
export type Occupancy = Static<typeof OccupancySchema>;
export type ConsoleConfig = Static<typeof ConsoleConfigSchema>;
export type CommandBody = Static<typeof CommandBodySchema>;
export type CommandResult = Static<typeof CommandResultSchema>;
export type Enrollment = Static<typeof EnrollmentSchema>;
export type Gate = Static<typeof GateSchema>;
export type GateBody = Static<typeof GateBodySchema>;
export type GatePatch = Static<typeof GatePatchSchema>;
export type FleetController = Static<typeof FleetControllerSchema>;
export type FleetQuery = Static<typeof FleetListSchema>;
export type GuestPass = Static<typeof GuestPassSchema>;
export type Holiday = Static<typeof HolidaySchema>;
export type GuestCodeSent = Static<typeof GuestCodeSentSchema>;
export type GuestSession = Static<typeof GuestSessionSchema>;
export type CheckBody = Static<typeof CheckBodySchema>;
export type CheckResult = Static<typeof CheckResultSchema>;
export type Credential = Static<typeof CredentialSchema>;
export type IssuedPass = Static<typeof IssuedPassSchema>;
export type Pass = Static<typeof PassSchema>;
export type PassBody = Static<typeof PassBodySchema>;
export type RevokeBody = Static<typeof RevokeBodySchema>;
export type Muster = Static<typeof MusterSchema>;
export type MusterItem = Static<typeof MusterItemSchema>;
export type Site = Static<typeof SiteSchema>;
export type SiteBody = Static<typeof SiteBodySchema>;
export type SitePatch = Static<typeof SitePatchSchema>;
export type Host = Static<typeof HostSchema>;
export type HostVisit = Static<typeof HostVisitSchema>;
export type HostGuest = Static<typeof HostGuestSchema>;
export type InvitationBody = Static<typeof InvitationBodySchema>;
export type HostPreferences = Static<typeof HostPreferencesSchema>;
export type HostPreferencesBody = Static<typeof HostPreferencesBodySchema>;
export type TelegramLink = Static<typeof TelegramLinkSchema>;
export type PushKey = Static<typeof PushKeySchema>;
export type PushSubscriptionCreated = Static<typeof SubscriptionCreatedSchema>;
export type DeadJobItem = Static<typeof DeadJobItemSchema>;
export type JobStats = Static<typeof JobStatsSchema>;
export type QueueStat = Static<typeof QueueStatSchema>;
export type RetriedJob = Static<typeof RetriedJobSchema>;
export type NotificationItem = Static<typeof NotificationItemSchema>;
export type TestBody = Static<typeof TestBodySchema>;
export type MailSummary = Static<typeof MailSummarySchema>;
export type MailMessage = Static<typeof MailMessageSchema>;
export type TemplateItem = Static<typeof TemplateItemSchema>;
export type TemplateBody = Static<typeof TemplateBodySchema>;
export type PreviewBody = Static<typeof PreviewBodySchema>;
export type Preview = Static<typeof PreviewSchema>;
export type OrgSettingsView = Static<typeof OrgSettingsViewSchema>;
export type OrgSettingsPatch = Static<typeof OrgSettingsPatchSchema>;
export type User = Static<typeof UserSchema>;
export type UserBody = Static<typeof UserBodySchema>;
export type UserPatch = Static<typeof UserPatchSchema>;
export type Visitor = Static<typeof VisitorSchema>;
export type VisitorBody = Static<typeof VisitorBodySchema>;
export type VisitorPatch = Static<typeof VisitorPatchSchema>;
export type Zone = Static<typeof ZoneSchema>;
export type ZoneBody = Static<typeof ZoneBodySchema>;
export type ZonePatch = Static<typeof ZonePatchSchema>;
export type App = Static<typeof AppSchema>;
export type AppBody = Static<typeof AppBodySchema>;
export type AppPatch = Static<typeof AppPatchSchema>;
export type ApiKey = Static<typeof ApiKeySchema>;
export type KeyBody = Static<typeof KeyBodySchema>;
export type NewKey = Static<typeof NewKeySchema>;
export type RotateBody = Static<typeof RotateBodySchema>;
export type Usage = Static<typeof UsageSchema>;
export type WebhookCreate = Static<typeof WebhookCreateSchema>;
export type WebhookCreated = Static<typeof WebhookCreatedSchema>;
export type WebhookItem = Static<typeof WebhookItemSchema>;
export type WebhookPatch = Static<typeof WebhookPatchSchema>;
export type WebhookSecret = Static<typeof WebhookSecretSchema>;
export type DeliveryItem = Static<typeof DeliveryItemSchema>;
export type DeliveryDetail = Static<typeof DeliveryDetailSchema>;
export type TestSent = Static<typeof TestSentSchema>;
export type EventCatalogue = Static<typeof EventCatalogueSchema>;

// Controller software (modules/updates): releases, rollouts, per-gate states, logs, maintenance windows.
export type Release = Static<typeof ReleaseSchema>;
export type UpdateJob = Static<typeof UpdateJobSchema>;
export type UpdateJobBody = Static<typeof UpdateJobBodySchema>;
export type UpdateJobDetail = Static<typeof UpdateJobDetailSchema>;
export type UpdateJobGate = Static<typeof UpdateJobGateSchema>;
export type UpdateLogLines = Static<typeof UpdateLogLinesSchema>;
export type UpdatePostponeBody = Static<typeof PostponeBodySchema>;
export type MaintenanceWindow = Static<typeof MaintenanceWindowSchema>;
export type MaintenanceWindowBody = Static<typeof MaintenanceWindowBodySchema>;
export type AvailableUpdates = Static<typeof AvailableUpdatesSchema>;
/** The live feed's `update.gate_changed` and `update.completed` data (also the webhooks'). */
export type { UpdateCompletedData, UpdateGateChangedData };
