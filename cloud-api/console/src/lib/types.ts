/** Shapes of the cloud's JSON answers (cloud-api/src/modules/<name>/schema.ts). */
export interface Site {
  id: string;
  name: string;
  timezone: string;
  createdAt: string;
}
export interface Zone {
  id: string;
  siteId: string;
  name: string;
  createdAt: string;
}
export type Direction = 'in' | 'out' | 'both';
export interface Gate {
  id: string;
  siteId: string;
  zoneId: string;
  name: string;
  direction: Direction;
  lockdown: boolean;
  deviceId: string | null;
  online: boolean;
  lastSeenAt: string | null;
  cacheSeq: number;
  outboxDepth: number;
  version: string | null;
}
export interface TimeWindow {
  from: string;
  to: string;
}
export interface AccessRule {
  id: string;
  name: string;
  zoneIds: string[];
  weekdays: number[];
  timeWindows: TimeWindow[];
  maxUses: number | null;
  escortRequired: boolean;
  antiPassback: boolean;
}
export interface User {
  id: string;
  email: string;
  fullName: string;
  roles: string[];
  hostId: string | null;
  createdAt: string;
}
export interface Host {
  id: string;
  userId: string;
  fullName: string;
  email: string;
  position: string | null;
}
export interface Visitor {
  id: string;
  fullName: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  documentNumber: string | null;
  createdAt: string;
}
export interface Appointment {
  id: string;
  hostId: string;
  visitorIds: string[];
  startsAt: string;
  endsAt: string;
  room: string | null;
  status: 'scheduled' | 'cancelled' | 'done';
}
export type PassStatus = 'draft' | 'active' | 'revoked' | 'expired';
export interface Pass {
  id: string;
  visitorId: string;
  appointmentId: string | null;
  accessRuleId: string;
  type: 'single' | 'multi' | 'group';
  status: PassStatus;
  validFrom: string;
  validTo: string;
  maxUses: number | null;
  card: { format: string; number: string } | null;
  revokedAt: string | null;
  revokedReason: string | null;
  createdAt: string;
}
export interface IssuedPass extends Pass {
  guestToken: string;
  guestUrl: string;
}
export interface Credential {
  kind: string;
  payload: string;
  expiresAt: string;
}
export interface Checkin {
  id: string;
  passId: string | null;
  gateId: string;
  siteId: string;
  type: string;
  credentialKind: string;
  direction: string;
  allow: boolean;
  reason: string;
  occurredAt: string;
  receivedAt: string;
  /** Filled when the server enriches live events; looked up otherwise. */
  visitorName?: string | null;
  hostName?: string | null;
  gateName?: string | null;
}
export interface Occupancy {
  siteId: string;
  count: number;
  items: { passId: string; visitorId: string | null; visitorName: string | null; gateId: string; since: string }[];
}
export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  ip: string | null;
  userAgent: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
}
