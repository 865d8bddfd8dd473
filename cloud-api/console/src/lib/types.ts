/**
 * Shapes of the cloud's JSON, derived from its route schemas
 * (cloud-api/src/modules/<name>/schema.ts through `@gatehouse/cloud-api/api`):
 * what the server really sends, never restated here.
 */
import type { AccessRule, Alarm, Gate, Muster, Pass, Site } from '@gatehouse/cloud-api/api';

export type {
  AccessRule,
  Alarm,
  ApiKey,
  App,
  AppBody,
  Appointment,
  AppPatch,
  AuditEntry,
  CheckBody,
  Checkin,
  CheckResult,
  CommandBody,
  CommandResult,
  Credential,
  DeadJobItem,
  DeliveryDetail,
  DeliveryItem,
  Enrollment,
  EventCatalogue,
  FleetController,
  Gate,
  GuestCodeSent,
  GuestPass,
  GuestSession,
  Holiday,
  Host,
  HostPreferences,
  IssuedPass,
  JobStats,
  KeyBody,
  LoginBody,
  MailMessage,
  MailSummary,
  Muster,
  MusterItem,
  NewKey,
  NotificationItem,
  Occupancy,
  OrgSettingsPatch,
  OrgSettingsView,
  Page,
  Pass,
  Preview,
  ProfilePatch,
  PushKey,
  PushSubscriptionCreated,
  QueueStat,
  RefreshBody,
  RetriedJob,
  RevokeBody,
  RotateBody,
  Site,
  TelegramLink,
  TemplateItem,
  TestSent,
  TokenPair,
  Usage,
  User,
  UserSummary,
  Visitor,
  WebhookCreate,
  WebhookCreated,
  WebhookItem,
  WebhookPatch,
  WebhookSecret,
  Zone,
} from '@gatehouse/cloud-api/api';

export type Direction = Gate['direction'];
export type TimeWindow = AccessRule['timeWindows'][number];
export type PassStatus = Pass['status'];
export type SiteMode = Site['mode'];
export type MusterSite = Muster['sites'][number];
export type AlarmKind = Alarm['kind'];
export type AlarmStatus = Alarm['status'];
