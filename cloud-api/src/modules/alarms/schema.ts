import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

/**
 * What an alarm is about (SPEC ALARM-1), `passback`: an entry a soft anti-passback rule admitted (DEC-11), and
 * `outbox_growing`: a controller online whose outbox of unsent records keeps growing (raised by the cloud from
 * its statuses, modules/fleet/outbox.ts; not an edge kind, so the protocol does not carry it).
 */
export const ALARM_KINDS = [
  'forced',
  'held_open',
  'tamper',
  'power',
  'reader_offline',
  'controller_offline',
  'passback',
  'storage',
  'outbox_growing',
] as const;
export type AlarmKindName = (typeof ALARM_KINDS)[number];
export const ALARM_STATUSES = ['raised', 'acknowledged', 'cleared'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];
export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const AlarmKindSchema = Type.Enum(ALARM_KINDS, {
  description: 'forced, held_open, tamper, power, reader_offline, controller_offline, passback, storage, outbox_growing',
});
export const AlarmStatusSchema = Type.Enum(ALARM_STATUSES, {
  description: 'raised → acknowledged (a guard saw it) → cleared (a guard closed it with a note)',
});
export const SeveritySchema = Type.Enum(SEVERITIES, {
  description: 'high: a door breached or a reader tampered with; medium: something stopped working; low: a soft rule let somebody through',
});

export const AlarmList = Type.Object({
  ...PageQuery,
  status: Type.Optional(
    Type.Union([Type.Literal('open'), ...ALARM_STATUSES.map((s) => Type.Literal(s))], {
      description: 'open = raised or acknowledged (not cleared yet)',
    }),
  ),
  siteId: Type.Optional(Uuid()),
  gateId: Type.Optional(Uuid()),
  kind: Type.Optional(AlarmKindSchema),
});

const Person = Nullable(
  Type.Object(
    { id: Uuid(), name: Nullable(Type.String()) },
    { description: 'the user who did it (null for an application or the system)' },
  ),
);

export const Alarm = Type.Object(
  {
    id: Uuid(),
    kind: AlarmKindSchema,
    severity: SeveritySchema,
    siteId: Uuid(),
    siteName: Nullable(Type.String()),
    gateId: Nullable(Uuid()),
    gateName: Nullable(Type.String()),
    reader: Nullable(Type.String({ description: 'the reader that reported it (its name in the edge config)' })),
    detail: Nullable(Type.String({ description: 'what the controller said of it' })),
    status: AlarmStatusSchema,
    /** The check-in event that raised it; null for controller_offline, which the cloud raises itself. */
    checkinId: Nullable(Uuid()),
    raisedAt: Timestamp(),
    conditionClearedAt: Nullable(
      Timestamp({ description: 'when the controller (or the cloud) said the condition was gone; a guard still clears the alarm' }),
    ),
    acknowledgedAt: Nullable(Timestamp()),
    acknowledgedBy: Person,
    acknowledgeNote: Nullable(Type.String()),
    clearedAt: Nullable(Timestamp()),
    clearedBy: Person,
    clearNote: Nullable(Type.String()),
  },
  {
    examples: [
      {
        id: '01938a2e-7c1a-7b8e-9f00-0000000000a1',
        kind: 'held_open',
        severity: 'high',
        siteId: EX.site,
        siteName: 'HQ',
        gateId: EX.gate,
        gateName: 'Turnstile 1',
        reader: 'door-1',
        detail: 'open 45 s after the unlock',
        status: 'acknowledged',
        checkinId: '01938a2e-7c1a-7b8e-9f00-0000000000a2',
        raisedAt: EX.from,
        conditionClearedAt: null,
        acknowledgedAt: EX.from,
        acknowledgedBy: { id: EX.user, name: 'Anna Guard' },
        acknowledgeNote: 'Going to look',
        clearedAt: null,
        clearedBy: null,
        clearNote: null,
      },
    ],
  },
);

const Note = (description: string) =>
  // At least one character that is not a space: a note of blanks says nothing.
  Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S', description });

export const AcknowledgeBody = Type.Object(
  { note: Type.Optional(Note('what the guard is doing about it')) },
  { additionalProperties: false, examples: [{ note: 'Going to look' }] },
);
export const ClearBody = Type.Object(
  { note: Note('what it was and what was done (required)') },
  { additionalProperties: false, examples: [{ note: 'Courier held the door; closed it and spoke to reception' }] },
);
