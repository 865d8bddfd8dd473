/**
 * The edge configuration of CONTRACT.md, validated with TypeBox. A bad file is
 * refused at start with a message naming the field: readers are checked one by
 * one against the schema of their `type`, because a union's errors would only
 * say "does not match any of".
 */
import { readFileSync } from 'node:fs';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

const Direction = Type.Union([Type.Literal('in'), Type.Literal('out')]);
const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
/** A board line number (BCM 17), not a sysfs number: gpio.ts adds the chip's base. */
const Pin = Type.Integer({ minimum: 0, maximum: 1023 });

export const SerialQrReaderSchema = Type.Object(
  {
    type: Type.Literal('serial-qr'),
    name: Type.Optional(Name),
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 4_000_000 })),
    direction: Direction,
    lineEnding: Type.Optional(Type.Union([Type.Literal('CR'), Type.Literal('LF'), Type.Literal('CRLF')])),
  },
  { additionalProperties: false },
);

export const WiegandReaderSchema = Type.Object(
  {
    type: Type.Literal('wiegand'),
    name: Type.Optional(Name),
    d0: Pin,
    d1: Pin,
    direction: Direction,
    /** Silence after the last bit that ends a frame. */
    frameTimeoutMs: Type.Optional(Type.Integer({ minimum: 5, maximum: 1000 })),
  },
  { additionalProperties: false },
);

/** An OSDP reader (PD) on an RS-485 bus; entries sharing a `path` are one bus, one address each. */
export const OsdpReaderSchema = Type.Object(
  {
    type: Type.Literal('osdp'),
    name: Type.Optional(Name),
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Optional(
      Type.Union([
        Type.Literal(9600),
        Type.Literal(19200),
        Type.Literal(38400),
        Type.Literal(57600),
        Type.Literal(115200),
        Type.Literal(230400),
      ]),
    ),
    /** 0x7F is broadcast, so 0..126. */
    address: Type.Integer({ minimum: 0, maximum: 126 }),
    /**
     * `{scbk}`: the reader's Secure Channel base key, 32 hex digits. `{install: true}`: connect once with the
     * published default key and replace it at once with a random key kept in the data dir. `false`: plain text.
     */
    secureChannel: Type.Union([
      Type.Literal(false),
      Type.Object({ scbk: Type.String({ pattern: '^[0-9A-Fa-f]{32}$' }) }, { additionalProperties: false }),
      Type.Object({ install: Type.Literal(true) }, { additionalProperties: false }),
    ]),
    direction: Direction,
  },
  { additionalProperties: false },
);

export const SimulatedReaderSchema = Type.Object(
  { type: Type.Literal('simulated'), name: Type.Optional(Name), direction: Direction },
  { additionalProperties: false },
);

const GpioRelaySchema = Type.Object(
  {
    type: Type.Literal('gpio'),
    pin: Pin,
    activeLow: Type.Optional(Type.Boolean()),
    pulseMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
  },
  { additionalProperties: false },
);

const SimulatedRelaySchema = Type.Object(
  {
    type: Type.Literal('simulated'),
    pulseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
    /** Each pulse is appended to this file synchronously (tests compare it with the outbox after a kill -9). */
    logFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const GpioSensorSchema = Type.Object(
  { type: Type.Literal('gpio'), pin: Pin, activeLow: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const SimulatedSensorSchema = Type.Object({ type: Type.Literal('simulated') }, { additionalProperties: false });

/** Door position contact (ALARM-1): logical 1 = open; `activeLow` for a switch that pulls the line low when open. */
const GpioDoorContactSchema = Type.Object(
  { type: Type.Literal('gpio'), pin: Pin, activeLow: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const SimulatedDoorContactSchema = Type.Object({ type: Type.Literal('simulated') }, { additionalProperties: false });

const MqttSchema = Type.Object(
  { url: Type.String({ minLength: 1 }), username: Type.String(), password: Type.String() },
  { additionalProperties: false },
);

const BaseSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    localPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    readers: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 16 }),
    relay: Type.Unknown(),
    passageSensor: Type.Optional(Type.Unknown()),
    doorContact: Type.Optional(Type.Unknown()),
    /** ALARM-1: a door still open this long after an unlock raises `held_open`. */
    heldOpenSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** ALARM-1: a reader (without its own condition reports) unhealthy this long raises `reader_offline`. */
    readerOfflineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /**
     * While the edge's database cannot be written (disk full, I/O error, read-only): `secure` (default) denies
     * everyone, `safe` admits valid credentials and keeps the records in memory until it can (README: Storage failure).
     */
    failMode: Type.Optional(Type.Union([Type.Literal('secure'), Type.Literal('safe')])),
    /** Seconds between write probes of the database (also on each GET /health). */
    storageProbeSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** Same text from the same reader within this window is one attempt. */
    debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    /** Power-loss window: WAL is fsynced at each checkpoint (synchronous=NORMAL). */
    checkpointIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    logLevel: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
    gpio: Type.Optional(
      Type.Object(
        {
          /**
           * `auto` (default): the character device (/dev/gpiochip*, kernel timestamps of edges) when it exists and
           * the gatehouse-gpio-cdev helper runs, sysfs otherwise; `cdev` / `sysfs` force one (README: GPIO backends).
           */
          backend: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('cdev'), Type.Literal('sysfs')])),
          /** cdev: the chip (gpiochip0, /dev/gpiochip0 or its label); the Raspberry Pi header's chip by default. */
          chip: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          /** cdev: path of the gatehouse-gpio-cdev helper (default: dist/bin of this package, /usr/lib/gatehouse, PATH). */
          cdevHelper: Type.Optional(Type.String({ minLength: 1 })),
          /** Override the sysfs base of the GPIO chip (normally found under /sys/class/gpio). */
          chipBase: Type.Optional(Type.Integer({ minimum: 0 })),
          sysfsRoot: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    // Enrollment adds these (CONTRACT.md); the MQTT link uses them.
    cloud: Type.Optional(Type.String({ minLength: 1 })),
    deviceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    orgId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    gateId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    siteId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    mqtt: Type.Optional(MqttSchema),
    orgPublicKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' })),
    /** This controller's X25519 private key (SEAL-1), made at enrollment: opens the TOTP secrets sealed to it. Never leaves the controller. */
    sealKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' })),
    /** PEM file of the CA the broker's TLS certificate is checked against (an mqtts:// broker with a private CA); the system's CAs otherwise. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Fleet updates (issue 16; README "Updates"). */
    update: Type.Optional(
      Type.Object(
        {
          /** Where releases are installed side by side (releases/, current, previous). */
          installRoot: Type.Optional(Type.String({ minLength: 1 })),
          /** Raw ed25519 public keys (base64) releases must be signed with; default: the running release's release-keys.json. */
          releaseKeys: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' }), { minItems: 1, maxItems: 8 })),
          /** Starts of a release on trial before boot-guard switches back (crash loop). */
          bootLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type SerialQrReaderConfig = Static<typeof SerialQrReaderSchema>;
export type WiegandReaderConfig = Static<typeof WiegandReaderSchema>;
export type SimulatedReaderConfig = Static<typeof SimulatedReaderSchema>;
export type OsdpReaderConfig = Static<typeof OsdpReaderSchema>;
export type ReaderConfig = SerialQrReaderConfig | WiegandReaderConfig | SimulatedReaderConfig | OsdpReaderConfig;
export type RelayConfig = Static<typeof GpioRelaySchema> | Static<typeof SimulatedRelaySchema>;
export type SensorConfig = Static<typeof GpioSensorSchema> | Static<typeof SimulatedSensorSchema>;
export type DoorContactConfig = Static<typeof GpioDoorContactSchema> | Static<typeof SimulatedDoorContactSchema>;

export interface EdgeConfig
  extends Omit<
    Static<typeof BaseSchema>,
    'readers' | 'relay' | 'passageSensor' | 'doorContact' | 'localPort' | 'debounceMs' | 'heldOpenSeconds' | 'readerOfflineSeconds'
  > {
  localPort: number;
  debounceMs: number;
  heldOpenSeconds: number;
  readerOfflineSeconds: number;
  doorContact?: DoorContactConfig;
  checkpointIntervalMs: number;
  readers: (ReaderConfig & { name: string })[];
  relay: RelayConfig;
  passageSensor?: SensorConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid config: ${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

const compiled = new Map<TSchema, ReturnType<typeof Compile>>();
function check<T>(schema: TSchema, value: unknown, at: string): T {
  let c = compiled.get(schema);
  if (!c) {
    c = Compile(schema);
    compiled.set(schema, c);
  }
  if (c.Check(value)) return value as T;
  const first = [...c.Errors(value)][0];
  const path = `${at}${first?.instancePath ?? ''}`.replace(/^\//, '').replaceAll('/', '.') || '(root)';
  // TypeBox reports an additional property as a `false` schema at its path: say it plainly.
  const message = first?.message === 'schema is false' ? 'unknown field (typo?)' : (first?.message ?? 'invalid');
  throw new ConfigError(path, message);
}

function byType<T>(value: unknown, at: string, schemas: Record<string, TSchema>): T {
  const type = (value as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? schemas[type] : undefined;
  if (!schema) {
    throw new ConfigError(`${at.replace(/^\//, '').replaceAll('/', '.')}.type`, `must be one of ${Object.keys(schemas).join(', ')}`);
  }
  return check<T>(schema, value, at);
}

/** One RS-485 bus per path: every entry on it runs at one speed, each PD at its own address. */
function checkOsdpBus(r: OsdpReaderConfig, i: number, all: unknown[]): void {
  for (let j = 0; j < i; j++) {
    const o = all[j] as Partial<OsdpReaderConfig>;
    if (o?.type !== 'osdp' || o.path !== r.path) continue;
    if ((o.baudRate ?? 9600) !== (r.baudRate ?? 9600))
      throw new ConfigError(`readers.${i}.baudRate`, `${r.path} is one bus: readers.${j} runs it at ${o.baudRate ?? 9600} baud`);
    if (o.address === r.address)
      throw new ConfigError(`readers.${i}.address`, `address ${r.address} is already used on ${r.path} by readers.${j}`);
  }
}

export const DEFAULT_LOCAL_PORT = 8181;

/** Validates a parsed config object; throws ConfigError naming the first bad field. */
export function parseConfig(value: unknown): EdgeConfig {
  const base = check<Static<typeof BaseSchema>>(BaseSchema, value, '');
  const names = new Set<string>();
  const readers = base.readers.map((r, i) => {
    const reader = byType<ReaderConfig>(r, `/readers/${i}`, {
      'serial-qr': SerialQrReaderSchema,
      wiegand: WiegandReaderSchema,
      simulated: SimulatedReaderSchema,
      osdp: OsdpReaderSchema,
    });
    if (reader.type === 'osdp') checkOsdpBus(reader, i, base.readers);
    const name = reader.name ?? (reader.type === 'simulated' && i === 0 ? 'simulated' : `${reader.type}-${i}`);
    if (names.has(name)) throw new ConfigError(`readers.${i}.name`, `duplicate reader name ${JSON.stringify(name)}`);
    names.add(name);
    return { ...reader, name };
  });
  const relay = byType<RelayConfig>(base.relay, '/relay', { gpio: GpioRelaySchema, simulated: SimulatedRelaySchema });
  const passageSensor =
    base.passageSensor === undefined
      ? undefined
      : byType<SensorConfig>(base.passageSensor, '/passageSensor', { gpio: GpioSensorSchema, simulated: SimulatedSensorSchema });
  const doorContact =
    base.doorContact === undefined
      ? undefined
      : byType<DoorContactConfig>(base.doorContact, '/doorContact', { gpio: GpioDoorContactSchema, simulated: SimulatedDoorContactSchema });
  const { passageSensor: _ignored, doorContact: _door, ...rest } = base;
  return {
    ...rest,
    localPort: base.localPort ?? DEFAULT_LOCAL_PORT,
    debounceMs: base.debounceMs ?? 1500,
    heldOpenSeconds: base.heldOpenSeconds ?? 30,
    readerOfflineSeconds: base.readerOfflineSeconds ?? 5,
    ...(doorContact ? { doorContact } : {}),
    checkpointIntervalMs: base.checkpointIntervalMs ?? 5000,
    readers,
    relay,
    ...(passageSensor ? { passageSensor } : {}),
  };
}

export const DEFAULT_CONFIG_PATH = '/etc/gatehouse-edge/config.json';

export function configPath(argPath?: string): string {
  return argPath ?? process.env.GATEHOUSE_EDGE_CONFIG ?? DEFAULT_CONFIG_PATH;
}

export function loadConfig(path: string): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', `cannot read ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', `${path} is not JSON: ${(e as Error).message}`);
  }
  return parseConfig(value);
}
