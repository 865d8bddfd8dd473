/**
 * Every MQTT message as a TypeBox schema with a compiled validator
 * (SPEC MSG-1..MSG-9). Payloads are JSON; every message has a version
 * field `v`; times are epoch milliseconds. `scripts/write-schemas.ts`
 * writes these out as JSON Schema files under `schemas/`.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { REASONS } from './reasons.js';

const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const DeviceId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Version = Type.Literal(1);
const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$' });

/** `T` or null: how every optional-but-present field is said. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

// ---- the contract's vocabulary: the cloud's API schemas reuse these ----

export const ReasonSchema = Type.Enum(REASONS);
/** The two QR formats (CRED-2, CRED-3). */
export const QrKindSchema = Type.Union([Type.Literal('dynamic'), Type.Literal('static')]);
export const CredentialKindSchema = Type.Union([...QrKindSchema.anyOf, Type.Literal('card'), Type.Literal('none')]);
/** Which way someone went through a gate. */
export const DirectionSchema = Type.Union([Type.Literal('in'), Type.Literal('out')]);
/** Which way a gate lets people through. */
export const GateDirectionSchema = Type.Union([...DirectionSchema.anyOf, Type.Literal('both')]);
export const PassTypeSchema = Type.Union([Type.Literal('single'), Type.Literal('multi'), Type.Literal('group')]);
export const PassStatusSchema = Type.Union([
  Type.Literal('draft'),
  Type.Literal('active'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);
/**
 * attempt = a decision; passage/no_passage follow an unlock; forced = passage without unlock; manual = opened by
 * command; alarm = a door or reader condition raised or gone (ALARM-1), carried in `alarm`.
 */
export const CheckinTypeSchema = Type.Union([
  Type.Literal('attempt'),
  Type.Literal('passage'),
  Type.Literal('no_passage'),
  Type.Literal('forced'),
  Type.Literal('manual'),
  Type.Literal('alarm'),
]);

/** DEC-11: anti-passback per rule — off, soft (admit and alert), hard (deny). */
export const AntiPassbackSchema = Type.Union([Type.Literal('off'), Type.Literal('soft'), Type.Literal('hard')]);
/** DEC-14: whether a rule observes the site's holiday calendar or applies on every day alike. */
export const HolidayPolicySchema = Type.Union([Type.Literal('observe'), Type.Literal('ignore')]);
/** ALARM-1: what an edge (or the cloud, for `controller_offline`) raises. */
export const AlarmKindSchema = Type.Union([
  Type.Literal('forced'),
  Type.Literal('held_open'),
  Type.Literal('tamper'),
  Type.Literal('reader_offline'),
  Type.Literal('power'),
  Type.Literal('controller_offline'),
  Type.Literal('storage'),
]);
/** What a soft rule lets through but reports (DEC-11 soft mode). */
export const AlertSchema = Type.Literal('passback');

// ---- cached records: what a sync carries and an edge stores ----

export const CardSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('w26'), Type.Literal('w34'), Type.Literal('raw')]),
    /** Decimal card number; for Wiegand the data bits between the parity bits. */
    number: Type.String({ pattern: '^[0-9]{1,20}$' }),
  },
  { additionalProperties: false },
);

export const PassRecordSchema = Type.Object(
  {
    id: Uuid,
    orgId: Id,
    ruleId: Nullable(Id),
    type: PassTypeSchema,
    status: PassStatusSchema,
    validFrom: EpochMs,
    validTo: EpochMs,
    /** Entries allowed; null = unlimited (multi) — single passes are 1 whatever this says. */
    maxUses: Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** Base32 TOTP secret of the dynamic QR; null when the pass has no dynamic QR. */
    totpSecret: Nullable(Type.String({ pattern: '^[A-Z2-7]{16,128}$' })),
    card: Nullable(CardSchema),
    /** DEC-15: this credential may escort visitors whose rule requires an escort (a staff card, a host's pass). */
    escort: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** A sealed secret (SEAL-3): base64 of nonce ‖ AES-256-GCM ciphertext ‖ tag. */
const SealedSecret = Type.String({ minLength: 40, maxLength: 256, pattern: '^[A-Za-z0-9+/]+={0,2}$' });
/** A raw 32-byte X25519 public key in base64 (SEAL-1, SEAL-2). */
export const X25519KeySchema = Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' });

const { totpSecret: _plainSecret, ...passFields } = PassRecordSchema.properties;
/**
 * A pass as a sync carries it (SEAL-3): the record without `totpSecret`, and the
 * secret sealed to the receiving device instead; null when the pass has no
 * dynamic QR or the device has no key (SEAL-5).
 */
export const SealedPassRecordSchema = Type.Object({ ...passFields, totpSealed: Nullable(SealedSecret) }, { additionalProperties: false });

export const TimeWindowSchema = Type.Object({ from: Hhmm, to: Hhmm }, { additionalProperties: false });

export const RuleRecordSchema = Type.Object(
  {
    id: Id,
    zoneIds: Type.Array(Id, { maxItems: 256 }),
    /** ISO weekdays, Monday = 1 … Sunday = 7. */
    weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { maxItems: 7 }),
    timeWindows: Type.Array(TimeWindowSchema, { maxItems: 16 }),
    maxUses: Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    antiPassback: AntiPassbackSchema,
    /** DEC-11 timed: an entry after an entry is forgiven this many minutes after the last one; null = never. */
    passbackMinutes: Nullable(Type.Integer({ minimum: 1, maximum: 10_080 })),
    escortRequired: Type.Boolean(),
    /** DEC-15: how close in time, before or after, the escort's credential must be shown at the same gate. */
    escortSeconds: Type.Integer({ minimum: 1, maximum: 600 }),
    holidays: HolidayPolicySchema,
  },
  { additionalProperties: false },
);

export const ZoneRecordSchema = Type.Object({ id: Id, siteId: Id, name: Type.String({ maxLength: 200 }) }, { additionalProperties: false });

export const GateRecordSchema = Type.Object(
  {
    id: Id,
    siteId: Id,
    zoneId: Id,
    name: Type.String({ maxLength: 200 }),
    direction: GateDirectionSchema,
    lockdown: Type.Boolean(),
    /** CMD-4: emergency release — the gate is held open (evacuation) until released. */
    emergency: Type.Boolean(),
  },
  { additionalProperties: false },
);

const LocalDate = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' });

/**
 * DEC-14: one day of a site's calendar — closed all day, or open only in `windows` (special hours). `date` is the
 * local date in the site's time zone.
 */
export const HolidayRecordSchema = Type.Object(
  {
    id: Id,
    siteId: Id,
    date: LocalDate,
    kind: Type.Union([Type.Literal('closed'), Type.Literal('special')]),
    name: Type.String({ maxLength: 200 }),
    windows: Type.Array(TimeWindowSchema, { maxItems: 16 }),
  },
  { additionalProperties: false },
);

/**
 * SYNC-3: a pass's in/out state as the cloud knows it from every gate of a site, for site-wide anti-passback and
 * use counts. `lastAt` orders it against the edge's own state; a guard's forgiveness is `lastDirection: null`
 * at the time it was given.
 */
export const PresenceRecordSchema = Type.Object(
  {
    passId: Uuid,
    useCount: Type.Integer({ minimum: 0 }),
    lastDirection: Nullable(DirectionSchema),
    lastAt: Nullable(EpochMs),
  },
  { additionalProperties: false },
);

export const SiteRecordSchema = Type.Object(
  { id: Id, name: Type.String({ maxLength: 200 }), timezone: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

const entity = <K extends string, S extends TSchema>(kind: K, data: S) =>
  Type.Object(
    {
      seq: Seq,
      entity: Type.Literal(kind),
      op: Type.Union([Type.Literal('upsert'), Type.Literal('delete')]),
      id: Id,
      /** Present for upserts, absent for deletes. */
      data: Type.Optional(data),
    },
    { additionalProperties: false },
  );

/** A change as the edge caches it (secrets opened). */
export const ChangeSchema = Type.Union([
  entity('pass', PassRecordSchema),
  entity('rule', RuleRecordSchema),
  entity('zone', ZoneRecordSchema),
  entity('gate', GateRecordSchema),
  entity('site', SiteRecordSchema),
  entity('holiday', HolidayRecordSchema),
  entity('presence', PresenceRecordSchema),
]);

/** A change as a delta carries it: a pass's secret sealed (SEAL-3). */
export const SyncChangeSchema = Type.Union([
  entity('pass', SealedPassRecordSchema),
  entity('rule', RuleRecordSchema),
  entity('zone', ZoneRecordSchema),
  entity('gate', GateRecordSchema),
  entity('site', SiteRecordSchema),
  entity('holiday', HolidayRecordSchema),
  entity('presence', PresenceRecordSchema),
]);

// ---- edge → cloud ----

export const CheckinEventSchema = Type.Object(
  {
    /** UUIDv7 made on the edge: the idempotency key of the whole pipeline. */
    id: Uuid,
    type: CheckinTypeSchema,
    gateId: Id,
    passId: Nullable(Uuid),
    credentialKind: CredentialKindSchema,
    direction: DirectionSchema,
    allow: Type.Boolean(),
    reason: ReasonSchema,
    occurredAt: EpochMs,
    /** Reader that produced it (config name), for diagnosis. */
    reader: Type.Optional(Type.String({ maxLength: 64 })),
    /**
     * DEC-12: the edge counted this event as the pass going through (an admitted attempt without a passage
     * sensor, or a confirmed passage): it moved the pass's use count and in/out state. The cloud's presence
     * (SYNC-3, the muster) counts exactly these.
     */
    counted: Type.Optional(Type.Boolean()),
    /** Admitted, but a soft rule reports it (DEC-11). */
    alert: Type.Optional(AlertSchema),
    /** For `type: "alarm"` (ALARM-1): which condition, and whether it began or ended. */
    alarm: Type.Optional(
      Type.Object(
        {
          kind: AlarmKindSchema,
          state: Type.Union([Type.Literal('raised'), Type.Literal('cleared')]),
          detail: Type.Optional(Type.String({ maxLength: 500 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const EventsBatchSchema = Type.Object(
  {
    v: Version,
    deviceId: DeviceId,
    batchId: Uuid,
    events: Type.Array(CheckinEventSchema, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false },
);

/** CMD-5: the first 8 hex digits of SHA-256 of an OSDP Secure Channel base key: names a key without telling it. */
export const OsdpKeyIdSchema = Type.String({ pattern: '^[0-9a-f]{8}$' });

const HardwareHealth = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    type: Type.String({ maxLength: 32 }),
    healthy: Type.Boolean(),
    detail: Type.Optional(Type.String({ maxLength: 500 })),
    /** CMD-5: an OSDP reader's Secure Channel key in use, as `osdpKeyId` names it (never the key). */
    keyId: Type.Optional(OsdpKeyIdSchema),
    /** CMD-5: the last key a keyset could not set on this reader, and why; gone once a later key is set. */
    keyFailed: Type.Optional(
      Type.Object({ keyId: OsdpKeyIdSchema, detail: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** Semantic version 2.0.0 text (no leading zeros, build metadata allowed), as a release names it (REL-1). */
export const SemverSchema = Type.String({
  maxLength: 64,
  pattern:
    '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$',
});
const ReleaseSerial = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * CMD-6: where a controller's update job stands, as its status reports it. The cloud adds its own states per gate
 * (pending, skipped, cancelled, postponed) that a controller never sends.
 */
export const UpdateGateStateSchema = Type.Union([
  Type.Literal('downloading'),
  Type.Literal('verifying'),
  Type.Literal('installing'),
  Type.Literal('restarting'),
  Type.Literal('checking_health'),
  Type.Literal('done'),
  Type.Literal('failed'),
  Type.Literal('rolled_back'),
]);

/** MSG-3, CMD-6: the last update job this controller ran, kept in every status until a new job starts. */
export const UpdateStatusSchema = Type.Object(
  {
    jobId: Uuid,
    state: UpdateGateStateSchema,
    version: SemverSchema,
    detail: Type.Optional(Type.String({ maxLength: 500 })),
    log: Type.Array(Type.String({ maxLength: 300 }), { maxItems: 20 }),
    ts: EpochMs,
  },
  { additionalProperties: false },
);

/** CMD-6: what an `update` command asks for. */
export const UpdateJobSchema = Type.Object(
  {
    jobId: Uuid,
    /** Absolute http(s) URL of the signed release JSON (REL-1) on the cloud. */
    url: Type.String({ minLength: 10, maxLength: 2048, pattern: '^https?://[^\\s]+$' }),
    version: SemverSchema,
    serial: ReleaseSerial,
    /** True only in a rollback job: lets the controller accept this job's lower serial, and no other (REL-6). */
    allowDowngrade: Type.Boolean(),
    /** Seconds the new release must stay healthy after its restart before it is kept. */
    healthWindowS: Type.Integer({ minimum: 10, maximum: 3600 }),
  },
  { additionalProperties: false },
);

export const StatusSchema = Type.Object(
  {
    v: Version,
    deviceId: DeviceId,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    version: Type.String({ maxLength: 64 }),
    cacheSeq: Seq,
    outboxDepth: Type.Integer({ minimum: 0 }),
    lockdown: Type.Boolean(),
    /** CMD-4: the gate is held open for an evacuation. Absent from edges that predate it. */
    emergency: Type.Optional(Type.Boolean()),
    hardware: Type.Array(HardwareHealth, { maxItems: 32 }),
    /** SYNC-5: this controller's clock minus the cloud's as estimated from signed messages; absent before the first. */
    clockSkewMs: Type.Optional(Type.Integer({ minimum: -1e12, maximum: 1e12 })),
    /** REL-1: the release running now; absent from a controller installed from a checkout. */
    release: Type.Optional(Type.Object({ version: SemverSchema, serial: ReleaseSerial }, { additionalProperties: false })),
    /** CMD-6: the last update job and where it stands. */
    update: Type.Optional(UpdateStatusSchema),
    ts: EpochMs,
  },
  { additionalProperties: false },
);

export const SyncRequestSchema = Type.Object(
  {
    v: Version,
    deviceId: DeviceId,
    /** Last applied change seq; 0 = empty cache. */
    fromSeq: Seq,
    /** Ask for a full snapshot regardless of fromSeq (e.g. after the cache was reset). */
    full: Type.Boolean(),
    ts: EpochMs,
  },
  { additionalProperties: false },
);

// ---- cloud → edge (sync and cmd travel inside a signed envelope) ----

/** The header every signed payload carries; `seq` is what replay checks compare (SIGN-4). */
const SignedHeader = {
  v: Version,
  orgId: Id,
  deviceId: DeviceId,
  seq: Seq,
  issuedAt: EpochMs,
};

export const SyncDeltaSchema = Type.Object(
  {
    ...SignedHeader,
    kind: Type.Literal('delta'),
    siteId: Id,
    /** The delta applies on top of exactly this seq; `seq` is the seq after it. */
    fromSeq: Seq,
    /** SEAL-2: the ephemeral key the secrets of this message are sealed with; null when none is sealed. */
    epk: Nullable(X25519KeySchema),
    changes: Type.Array(SyncChangeSchema, { maxItems: 5000 }),
  },
  { additionalProperties: false },
);

export const SyncSnapshotChunkSchema = Type.Object(
  {
    ...SignedHeader,
    kind: Type.Literal('snapshot'),
    siteId: Id,
    snapshotId: Uuid,
    chunk: Type.Integer({ minimum: 0 }),
    chunks: Type.Integer({ minimum: 1 }),
    site: Type.Optional(SiteRecordSchema),
    /** SEAL-2: the ephemeral key the secrets of this chunk are sealed with; null when none is sealed. */
    epk: Nullable(X25519KeySchema),
    passes: Type.Array(SealedPassRecordSchema, { maxItems: 5000 }),
    rules: Type.Array(RuleRecordSchema, { maxItems: 5000 }),
    zones: Type.Array(ZoneRecordSchema, { maxItems: 5000 }),
    gates: Type.Array(GateRecordSchema, { maxItems: 5000 }),
    holidays: Type.Array(HolidayRecordSchema, { maxItems: 5000 }),
    presence: Type.Array(PresenceRecordSchema, { maxItems: 5000 }),
  },
  { additionalProperties: false },
);

export const SyncMessageSchema = Type.Union([SyncDeltaSchema, SyncSnapshotChunkSchema]);

export const CommandSchema = Type.Object(
  {
    ...SignedHeader,
    kind: Type.Literal('cmd'),
    id: Uuid,
    type: Type.Union([
      Type.Literal('open'),
      Type.Literal('lockdown'),
      Type.Literal('release'),
      Type.Literal('resync'),
      Type.Literal('emergency'),
      Type.Literal('osdp_keyset'),
      Type.Literal('update'),
    ]),
    /** A command that arrives after this is dropped, not executed (CMD-2). */
    expiresAt: EpochMs,
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    /** CMD-5 (`osdp_keyset` only): the name of the OSDP reader in the controller's config. */
    reader: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** CMD-5: the ephemeral key the new SCBK is sealed with (SEAL-2). */
    epk: Type.Optional(X25519KeySchema),
    /** CMD-5: the new 16-byte SCBK as 32 hex digits, sealed to the device (SEAL-3, aad `osdp:<deviceId>:<reader>`). */
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9+/]*={0,2}$' })),
    /** CMD-6 (`update` only): the release to install. */
    update: Type.Optional(UpdateJobSchema),
  },
  {
    additionalProperties: false,
    // A keyset without its key, or an update without its job, is refused outright, and under JSON Schema as well
    // as here (MSG-9).
    allOf: [
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; a schema is never awaited.
      { if: { properties: { type: { const: 'osdp_keyset' } }, required: ['type'] }, then: { required: ['reader', 'epk', 'secret'] } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; a schema is never awaited.
      { if: { properties: { type: { const: 'update' } }, required: ['type'] }, then: { required: ['update'] } },
    ],
  },
);

export const AckSchema = Type.Object(
  {
    ...SignedHeader,
    kind: Type.Literal('ack'),
    batchId: Uuid,
    /** Ids stored (or already stored before): the edge may delete them. */
    ids: Type.Array(Uuid, { maxItems: 1000 }),
  },
  { additionalProperties: false },
);

export const DownMessageSchema = Type.Union([SyncDeltaSchema, SyncSnapshotChunkSchema, CommandSchema, AckSchema]);

export const EnvelopeSchema = Type.Object(
  {
    kid: Type.String({ pattern: '^[0-9a-f]{8}$' }),
    payload: Type.String({ maxLength: 16 * 1024 * 1024, pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
    sig: Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$' }),
  },
  { additionalProperties: false },
);

export type Card = Static<typeof CardSchema>;
export type PassRecord = Static<typeof PassRecordSchema>;
export type TimeWindow = Static<typeof TimeWindowSchema>;
export type RuleRecord = Static<typeof RuleRecordSchema>;
export type ZoneRecord = Static<typeof ZoneRecordSchema>;
export type GateRecord = Static<typeof GateRecordSchema>;
export type SiteRecord = Static<typeof SiteRecordSchema>;
export type HolidayRecord = Static<typeof HolidayRecordSchema>;
export type PresenceRecord = Static<typeof PresenceRecordSchema>;
export type AntiPassback = Static<typeof AntiPassbackSchema>;
export type AlarmKind = Static<typeof AlarmKindSchema>;
export type SealedPassRecord = Static<typeof SealedPassRecordSchema>;
export type Change = Static<typeof ChangeSchema>;
export type SyncChange = Static<typeof SyncChangeSchema>;
export type CheckinEvent = Static<typeof CheckinEventSchema>;
export type EventsBatch = Static<typeof EventsBatchSchema>;
export type Status = Static<typeof StatusSchema>;
export type SyncRequest = Static<typeof SyncRequestSchema>;
export type SyncDelta = Static<typeof SyncDeltaSchema>;
export type SyncSnapshotChunk = Static<typeof SyncSnapshotChunkSchema>;
export type SyncMessage = Static<typeof SyncMessageSchema>;
export type Command = Static<typeof CommandSchema>;
export type Ack = Static<typeof AckSchema>;
export type DownMessage = Static<typeof DownMessageSchema>;
export type Envelope = Static<typeof EnvelopeSchema>;
export type UpdateGateState = Static<typeof UpdateGateStateSchema>;
export type UpdateStatus = Static<typeof UpdateStatusSchema>;
export type UpdateJob = Static<typeof UpdateJobSchema>;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export interface Validator<T> {
  readonly schema: TSchema;
  check(value: unknown): value is T;
  validate(value: unknown): ValidationResult<T>;
  /** JSON text or bytes → validated value; never throws. */
  parse(input: string | Uint8Array): ValidationResult<T>;
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;

function validator<T>(schema: TSchema): Validator<T> {
  const compiled = Compile(schema);
  const check = (value: unknown): value is T => compiled.Check(value);
  const validate = (value: unknown): ValidationResult<T> => {
    if (compiled.Check(value)) return { ok: true, value: value as T };
    const errors = [...compiled.Errors(value)].slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message}`);
    return { ok: false, errors: errors.length ? errors : ['invalid'] };
  };
  return {
    schema,
    check,
    validate,
    parse(input) {
      if (input.length > MAX_JSON_BYTES) return { ok: false, errors: ['payload too large'] };
      let value: unknown;
      try {
        value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
      } catch {
        return { ok: false, errors: ['not JSON'] };
      }
      return validate(value);
    },
  };
}

export const validators = {
  eventsBatch: validator<EventsBatch>(EventsBatchSchema),
  checkinEvent: validator<CheckinEvent>(CheckinEventSchema),
  status: validator<Status>(StatusSchema),
  syncRequest: validator<SyncRequest>(SyncRequestSchema),
  syncDelta: validator<SyncDelta>(SyncDeltaSchema),
  syncSnapshotChunk: validator<SyncSnapshotChunk>(SyncSnapshotChunkSchema),
  syncMessage: validator<SyncMessage>(SyncMessageSchema),
  command: validator<Command>(CommandSchema),
  ack: validator<Ack>(AckSchema),
  downMessage: validator<DownMessage>(DownMessageSchema),
  envelope: validator<Envelope>(EnvelopeSchema),
  passRecord: validator<PassRecord>(PassRecordSchema),
  ruleRecord: validator<RuleRecord>(RuleRecordSchema),
  zoneRecord: validator<ZoneRecord>(ZoneRecordSchema),
  gateRecord: validator<GateRecord>(GateRecordSchema),
  siteRecord: validator<SiteRecord>(SiteRecordSchema),
  holidayRecord: validator<HolidayRecord>(HolidayRecordSchema),
  presenceRecord: validator<PresenceRecord>(PresenceRecordSchema),
} as const;

/** Message schemas by file name, for the JSON Schema export. */
export const messageSchemas: Record<string, TSchema> = {
  'events-batch': EventsBatchSchema,
  status: StatusSchema,
  'sync-request': SyncRequestSchema,
  'sync-delta': SyncDeltaSchema,
  'sync-snapshot-chunk': SyncSnapshotChunkSchema,
  command: CommandSchema,
  ack: AckSchema,
  envelope: EnvelopeSchema,
};
