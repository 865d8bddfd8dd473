/**
 * Shapes of the cloud's JSON, derived from its route schemas
 * (cloud-api/src/modules/<name>/schema.ts through `@gatehouse/cloud-api/api`):
 * what the server really sends, never restated here.
 */
import type { AccessRule, Gate, Pass } from '@gatehouse/cloud-api/api';

export type {
  AccessRule,
  Appointment,
  AuditEntry,
  CheckBody,
  Checkin,
  CheckResult,
  CommandBody,
  CommandResult,
  Credential,
  DeadJobItem,
  Enrollment,
  Gate,
  GuestCodeSent,
  GuestPass,
  GuestSession,
  Host,
  HostPreferences,
  IssuedPass,
  JobStats,
  LoginBody,
  MailMessage,
  MailSummary,
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
  Site,
  TelegramLink,
  TemplateItem,
  TokenPair,
  User,
  UserSummary,
  Visitor,
  Zone,
} from '@gatehouse/cloud-api/api';

export type Direction = Gate['direction'];
export type TimeWindow = AccessRule['timeWindows'][number];
export type PassStatus = Pass['status'];
