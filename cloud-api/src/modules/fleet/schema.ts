import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const FLEET_SORTS = ['name', 'lastSeen', 'outbox', 'version'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export const FleetList = Type.Object({
  ...PageQuery,
  // The keyset of a sort (a name of up to 200 characters, say, and an id): longer than an id cursor.
  cursor: Type.Optional(Type.String({ maxLength: 1024 })),
  siteId: Type.Optional(Uuid()),
  online: Type.Optional(Type.Boolean({ description: 'only the controllers online (true) or offline (false)' })),
  sort: Type.Optional(
    Type.Enum(FLEET_SORTS, {
      default: 'name',
      description:
        'name (A→Z), lastSeen (the longest silent first), outbox (the deepest first), version (lowest release serial, then version text, first); the cursor belongs to its sort',
    }),
  ),
});

const Hardware = Type.Object({
  name: Type.String(),
  type: Type.String(),
  healthy: Type.Boolean(),
  detail: Type.Optional(Type.String()),
});

const UpdateState = Type.Object(
  {
    jobId: Uuid(),
    state: Type.String({
      description:
        'pending, downloading, verifying, installing, restarting, checking_health, done, failed, rolled_back (from the controller), or skipped, cancelled, postponed (the cloud)',
    }),
    version: Type.String(),
    detail: Nullable(Type.String()),
    updatedAt: Timestamp(),
  },
  { description: "the gate's state in its latest update job (GET /api/admin/updates/jobs/{jobId}); null when it has been in none" },
);

export const FleetController = Type.Object(
  {
    id: Uuid({ description: 'the gate' }),
    name: Type.String(),
    siteId: Uuid(),
    siteName: Type.String(),
    zoneId: Uuid(),
    deviceId: Nullable(Type.String({ description: 'null: no controller enrolled yet' })),
    disabled: Type.Boolean(),
    online: Type.Boolean(),
    lastSeenAt: Nullable(Timestamp({ description: 'last contact: its last status (or its last will when the link dropped)' })),
    version: Nullable(Type.String({ description: 'the version its last status reported' })),
    releaseSerial: Nullable(
      Type.Integer({ description: 'REL-1: the serial of the signed release it runs; null when installed from a checkout' }),
    ),
    cacheSeq: Type.Integer({ description: 'the last change of its site it applied' }),
    siteSeq: Type.Integer({ description: 'the last change of its site the cloud has stamped' }),
    seqLag: Type.Integer({ description: 'siteSeq − cacheSeq: changes it has not applied yet (at least; unstamped ones come on top)' }),
    lagSeconds: Nullable(
      Type.Number({
        description: 'age of the oldest change of its site it has not applied (0: current); null before its first snapshot (cacheSeq 0)',
      }),
    ),
    outboxDepth: Type.Integer({ description: 'check-ins waiting on the controller for the cloud’s ack' }),
    outboxGrowing: Type.Boolean({ description: 'the outbox_growing condition is on (its alarm raised, not drained since)' }),
    hardware: Type.Array(Hardware, { description: 'readers, relay and sensors as its last online status reported them' }),
    hardwareHealthy: Nullable(Type.Boolean({ description: 'every hardware entry healthy; null before its first status' })),
    clockSkewMs: Nullable(Type.Integer({ description: "SYNC-5: its clock minus the cloud's, from its last status that had one" })),
    update: Nullable(UpdateState),
    openAlarms: Type.Integer({ description: 'its alarms not cleared yet (GET /api/admin/alarms?gateId=…&status=open)' }),
  },
  {
    examples: [
      {
        id: EX.gate,
        name: 'Turnstile 1',
        siteId: EX.site,
        siteName: 'HQ',
        zoneId: EX.zone,
        deviceId: 'gate-01938a2e',
        disabled: false,
        online: true,
        lastSeenAt: EX.from,
        version: '0.2.0',
        releaseSerial: 7,
        cacheSeq: 1204,
        siteSeq: 1206,
        seqLag: 2,
        lagSeconds: 1.4,
        outboxDepth: 0,
        outboxGrowing: false,
        hardware: [
          { name: 'qr-1', type: 'serial-qr', healthy: true },
          { name: 'relay', type: 'relay', healthy: true },
        ],
        hardwareHealthy: true,
        clockSkewMs: -120,
        update: null,
        openAlarms: 0,
      },
    ],
  },
);
