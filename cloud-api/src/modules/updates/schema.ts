import { Nullable, SignedReleaseSchema, TimeWindowSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';
import { UPDATE_GATE_STATES, UPDATE_JOB_STATES } from './tables.js';

const Channel = Type.Union([Type.Literal('stable'), Type.Literal('beta')]);
const Platform = Type.Union([Type.Literal('linux-x64'), Type.Literal('linux-arm64')]);
const Hhmm = TimeWindowSchema.properties.from;

const SIGNED_EXAMPLE = {
  kid: '1a2b3c4d',
  payload: 'eyJ2IjoxLCJwcm9kdWN0IjoiZ2F0ZWhvdXNlLWVkZ2UiLCJ2ZXJzaW9uIjoiMC4yLjAifQ==',
  sig: `${'A'.repeat(86)}==`,
};
/** A signed release ({kid, payload, sig}) as release.json holds it. */
export const SignedRelease = Type.Unsafe<import('@gatehouse/protocol').SignedRelease>({
  ...SignedReleaseSchema,
  description: 'the signed release.json that `npm run release:edge` writes ({kid, payload, sig}), as it is',
  examples: [SIGNED_EXAMPLE],
});
export const PublishBody = Type.Object(
  { release: SignedRelease },
  { additionalProperties: false, examples: [{ release: SIGNED_EXAMPLE }] },
);

export const Release = Type.Object({
  id: Uuid(),
  version: Type.String(),
  serial: Type.Integer(),
  channel: Channel,
  kid: Type.String({ description: 'the release key that signed it' }),
  notes: Nullable(Type.String()),
  status: Type.Union([Type.Literal('incomplete'), Type.Literal('ready')], {
    description: 'incomplete until every listed file has been uploaded and matched its SHA-256',
  }),
  minCloudVersion: Type.String(),
  node: Type.String({ description: 'the Node versions it runs on, e.g. ">=22 <25"' }),
  totalBytes: Type.Integer(),
  files: Type.Integer(),
  filesUploaded: Type.Integer(),
  missing: Type.Array(Type.Object({ path: Type.String(), platform: Nullable(Platform), size: Type.Integer(), sha256: Type.String() }), {
    description: 'files still to upload (the first 100)',
  }),
  expiresAt: Timestamp({ description: 'controllers refuse the release from then on (freeze protection, REL-4)' }),
  publishedAt: Nullable(Timestamp({ description: 'when its last file arrived' })),
  createdAt: Timestamp(),
});

export const ReleaseList = Type.Object({ ...PageQuery, channel: Type.Optional(Channel) });
export const ReleaseFileParams = Type.Object({ id: Uuid(), '*': Type.String({ minLength: 1, maxLength: 255 }) });
export const PlatformQuery = Type.Object({ platform: Type.Optional(Platform) }, { additionalProperties: false });

const literals = <const T extends readonly string[]>(values: T) =>
  values.map((v) => Type.Literal(v)) as unknown as { -readonly [K in keyof T]: ReturnType<typeof Type.Literal<T[K]>> };
const JobState = Type.Union(literals(UPDATE_JOB_STATES), {
  description: 'scheduled (waits for startAt), running, paused, halted (a canary failed, or too many gates), done, cancelled',
});
const GateState = Type.Union(literals(UPDATE_GATE_STATES), {
  description:
    'pending → (as the controller reports) downloading, verifying, installing, restarting, checking_health → done, failed or rolled_back; the cloud’s own: skipped (never reached), cancelled, postponed',
});

export const Strategy = Type.Object(
  {
    canaryGateIds: Type.Optional(Type.Array(Uuid(), { maxItems: 100, description: 'the canary gates, by name; else canaryPercent' })),
    canaryPercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'canaries as a share of the gates in scope, at least one when above 0 (default 10)',
      }),
    ),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'gates per batch after the canaries' })),
    batchPercent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'or a batch as a share of them (default 25)' })),
    healthWindowS: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 3600, description: 'how long a controller must stay healthy on the new release (default 120)' }),
    ),
    failureThreshold: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: 'failed or rolled-back gates after the canaries before the rollout halts (default 0)',
      }),
    ),
    deliveryTtlS: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 7 * 24 * 3600,
        description: 'how long an offline controller’s command waits for it; then the gate is skipped (default 3600)',
      }),
    ),
    installTimeoutS: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 24 * 3600,
        description: 'download and install budget; silent longer (plus the health window) is failed (default 900)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StrategyView = Type.Object({
  canaryGateIds: Type.Array(Uuid()),
  canaryPercent: Type.Integer(),
  batchSize: Nullable(Type.Integer()),
  batchPercent: Nullable(Type.Integer()),
  healthWindowS: Type.Integer(),
  failureThreshold: Type.Integer(),
  deliveryTtlS: Type.Integer(),
  installTimeoutS: Type.Integer(),
});

const Scope = Type.Union([Type.Literal('fleet'), Type.Array(Uuid(), { minItems: 1, maxItems: 500 })], {
  description: '"fleet": every enrolled gate of the organisation; or these sites’ gates',
});

export const JobBody = Type.Object(
  {
    releaseId: Uuid(),
    scope: Scope,
    strategy: Type.Optional(Strategy),
    allowDowngrade: Type.Optional(
      Type.Boolean({ description: 'a rollback job: lets controllers take this release although they run a newer one (REL-6)' }),
    ),
    startAt: Type.Optional(Timestamp({ description: 'start no earlier than this (default now)' })),
  },
  {
    additionalProperties: false,
    examples: [{ releaseId: '0190f0a0-0000-7000-8000-00000000000e', scope: 'fleet', strategy: { canaryPercent: 10, batchPercent: 25 } }],
  },
);

const Counts = Type.Object(
  Object.fromEntries(UPDATE_GATE_STATES.map((s) => [s, Type.Integer()])) as Record<
    (typeof UPDATE_GATE_STATES)[number],
    ReturnType<typeof Type.Integer>
  >,
);

const jobFields = {
  id: Uuid(),
  releaseId: Uuid(),
  version: Type.String(),
  serial: Type.Integer(),
  channel: Channel,
  scope: Scope,
  strategy: StrategyView,
  allowDowngrade: Type.Boolean(),
  state: JobState,
  stage: Type.Union([Type.Literal('canary'), Type.Literal('batches')]),
  startAt: Timestamp(),
  haltedReason: Nullable(Type.String()),
  finishedAt: Nullable(Timestamp()),
  gates: Type.Integer(),
  counts: Counts,
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
};
export const Job = Type.Object(jobFields);

export const JobGate = Type.Object({
  gateId: Uuid(),
  gateName: Nullable(Type.String()),
  siteId: Uuid(),
  canary: Type.Boolean(),
  batch: Type.Integer({ description: '0 for the canaries, then 1, 2, … in rollout order' }),
  state: GateState,
  detail: Nullable(Type.String()),
  fromVersion: Nullable(Type.String()),
  dispatchedAt: Nullable(Timestamp()),
  deadlineAt: Nullable(Timestamp()),
  reportedAt: Nullable(Timestamp()),
  postponedUntil: Nullable(Timestamp()),
  finishedAt: Nullable(Timestamp()),
});
export const JobDetail = Type.Object({ ...jobFields, gateStates: Type.Array(JobGate) });

export const JobList = Type.Object({ ...PageQuery, state: Type.Optional(JobState) });

export const LogQuery = Type.Object({
  gateId: Type.Optional(Uuid()),
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'the `last` of the previous answer: only newer lines' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
});
export const LogLines = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.Integer(),
      gateId: Nullable(Uuid()),
      level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
      message: Type.String(),
      at: Timestamp(),
    }),
  ),
  last: Type.Integer(),
});

export const PostponeBody = Type.Object(
  {
    until: Timestamp({ description: 'when the job (or these gates) may start again' }),
    gateIds: Type.Optional(Type.Array(Uuid(), { minItems: 1, maxItems: 10_000, description: 'only these gates, not started yet' })),
  },
  { additionalProperties: false },
);

export const MaintenanceWindowBody = Type.Object(
  {
    window: Nullable(
      Type.Object(
        {
          days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
            maxItems: 7,
            description: 'ISO weekdays, Monday 1; empty: every day',
          }),
          from: Hhmm,
          to: Hhmm,
        },
        {
          additionalProperties: false,
          description: 'local times in the site’s time zone; to <= from crosses midnight; null: updates may start at any time',
        },
      ),
    ),
  },
  { additionalProperties: false, examples: [{ window: { days: [6, 7], from: '02:00', to: '05:00' } }] },
);
export const MaintenanceWindow = Type.Object({
  siteId: Uuid(),
  siteName: Type.String(),
  timezone: Type.String(),
  window: Nullable(Type.Object({ days: Type.Array(Type.Integer()), from: Type.String(), to: Type.String() })),
});
export const MaintenanceWindows = Type.Object({ items: Type.Array(MaintenanceWindow) });
export const SiteParams = Type.Object({ siteId: Uuid() });

export const Available = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid(),
      releaseId: Uuid(),
      version: Type.String(),
      serial: Type.Integer(),
      channel: Channel,
      notes: Nullable(Type.String()),
      runningVersion: Nullable(Type.String({ description: 'the oldest version the organisation’s gates ran when it was noticed' })),
      expiresAt: Timestamp(),
      noticedAt: Timestamp(),
    }),
  ),
});
