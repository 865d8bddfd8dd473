/**
 * Roles as permission sets: the ONE table the routes and the RBAC test read.
 * Every /api/admin route names one permission; a user holds the union of
 * their roles' sets, always inside their own organisation.
 */
export const ROLES = ['PlatformAdmin', 'OrgAdmin', 'SecurityOfficer', 'Operator', 'Host', 'Guest', 'Developer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'sites:read',
  'sites:write',
  'zones:read',
  'zones:write',
  'gates:read',
  'gates:write',
  'gates:enroll',
  'gates:command',
  'rules:read',
  'rules:write',
  'users:read',
  'users:write',
  'hosts:read',
  'visitors:read',
  'visitors:write',
  /** A visitor's phone and document number: without it they are left out of every answer, and writing them is refused. */
  'visitors:pii',
  'appointments:read',
  'appointments:write',
  /**
   * Act on every host's appointments, and so on every visitor and pass; without it a user (a Host) sees and
   * books only their own meetings, the visitors on them or registered by them, and the passes of those meetings.
   */
  'appointments:any',
  'passes:read',
  'passes:issue',
  'passes:revoke',
  /** Read a pass's working entry credential (`/credential`, `qr.svg`): whoever holds it can walk in. */
  'passes:credential',
  'passes:check',
  'checkins:read',
  'audit:read',
  /** The message log and the development mailbox. */
  'notifications:read',
  /** Send invitations and test messages, retry a dead message, edit message templates. */
  'notifications:write',
  /** Branding, languages, reminders, the Telegram bot, the rule of host invitations. */
  'org:settings',
  /** Dead background jobs, and running them again. */
  'jobs:read',
  'jobs:retry',
  /** The host portal (/api/host): one's own visits, inviting one's own guests, one's notification preferences. */
  'host:portal',
  /** The developer console (/api/devconsole): applications, their API keys and webhooks, usage, the sandbox. */
  'devconsole:manage',
  /** Door, reader and controller alarms: see them; acknowledge and clear them with a note. */
  'alarms:read',
  'alarms:manage',
  /** Lock every gate of a site (and end it). */
  'sites:lockdown',
  /** Release every gate of a site for evacuation (and end it): a life-safety action of its own. */
  'sites:emergency',
  /** Forgive a pass's anti-passback state (it is treated as outside), site-wide. */
  'passback:forgive',
  /** Who is inside each site and zone now: the roll call of an evacuation. */
  'muster:read',
  /** Controller software: releases, rollouts, their per-gate states and logs, new-release notices. */
  'updates:read',
  /** Start, pause, resume, cancel and postpone rollouts; sites' maintenance windows; check for new releases. */
  'updates:manage',
  /**
   * Publish a signed edge release for the whole installation (every organisation may roll it out): the
   * platform operator's, so PlatformAdmin only.
   */
  'releases:publish',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ALL: readonly Permission[] = PERMISSIONS;
/** Everything an organisation's own administrator may do: all but the installation-wide acts. */
const ORG_ALL: readonly Permission[] = PERMISSIONS.filter((p) => p !== 'releases:publish');

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  PlatformAdmin: ALL,
  OrgAdmin: ORG_ALL,
  // Audits, writes access policy, manages passes (issues, prints, revokes), drives gates in an incident.
  SecurityOfficer: [
    'sites:read',
    'zones:read',
    'gates:read',
    'gates:command',
    'rules:read',
    'rules:write',
    'users:read',
    'hosts:read',
    'visitors:read',
    'visitors:pii',
    'appointments:read',
    'appointments:any',
    'passes:read',
    'passes:issue',
    'passes:revoke',
    'passes:credential',
    'passes:check',
    'checkins:read',
    'audit:read',
    'notifications:read',
    'notifications:write',
    'jobs:read',
    'alarms:read',
    'alarms:manage',
    'sites:lockdown',
    'sites:emergency',
    'passback:forgive',
    'muster:read',
    'updates:read',
  ],
  // The front desk / guard: meetings, issuing and printing passes, watching the gates.
  Operator: [
    'sites:read',
    'zones:read',
    'gates:read',
    'gates:command',
    'rules:read',
    'hosts:read',
    'visitors:read',
    'visitors:write',
    'visitors:pii',
    'appointments:read',
    'appointments:write',
    'appointments:any',
    'passes:read',
    'passes:issue',
    'passes:credential',
    'passes:check',
    'checkins:read',
    'notifications:read',
    'notifications:write',
    // The guard at the turnstile: answers alarms, forgives a passback, releases the doors in an evacuation, calls the roll.
    'alarms:read',
    'alarms:manage',
    'sites:emergency',
    'passback:forgive',
    'muster:read',
  ],
  // Invites guests to their own meetings and follows their status: no phone or document number, no entry credential.
  Host: [
    'sites:read',
    'hosts:read',
    'visitors:read',
    'visitors:write',
    'appointments:read',
    'appointments:write',
    'passes:read',
    'host:portal',
  ],
  // Guests see their own pass through /api/guest only.
  Guest: [],
  // Builds integrations: the developer console, and the organisation's layout to point them at (no people, no passes).
  Developer: ['devconsole:manage', 'sites:read', 'zones:read', 'gates:read', 'rules:read'],
};

export function permissionsOf(roles: readonly string[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const r of roles) for (const p of ROLE_PERMISSIONS[r as Role] ?? []) out.add(p);
  return out;
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}
