/**
 * MQTT topic layout (SPEC TOPIC-1..TOPIC-5). Everything lives under `gh/v1/`;
 * a device may only touch `gh/v1/dev/{itsId}/...`, which is what the broker
 * ACLs enforce, so the parser is strict: an unknown or malformed topic is
 * rejected, never guessed.
 */
export const TOPIC_ROOT = 'gh/v1';

/** TOPIC-2: device ids are 1..64 chars of [A-Za-z0-9_-]: no MQTT wildcards, no separators. */
export const DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const UP_KINDS = ['events', 'status', 'sync-request'] as const;
export const DOWN_KINDS = ['sync', 'ack', 'cmd'] as const;
export type UpKind = (typeof UP_KINDS)[number];
export type DownKind = (typeof DOWN_KINDS)[number];
export type TopicKind = UpKind | DownKind;

export type ParsedTopic = { deviceId: string; direction: 'up'; kind: UpKind } | { deviceId: string; direction: 'down'; kind: DownKind };

export function isDeviceId(s: unknown): s is string {
  return typeof s === 'string' && DEVICE_ID_RE.test(s);
}

function build(deviceId: string, direction: 'up' | 'down', kind: TopicKind): string {
  if (!isDeviceId(deviceId)) throw new TypeError(`invalid device id: ${JSON.stringify(deviceId)}`);
  return `${TOPIC_ROOT}/dev/${deviceId}/${direction}/${kind}`;
}

export const topics = {
  events: (deviceId: string) => build(deviceId, 'up', 'events'),
  status: (deviceId: string) => build(deviceId, 'up', 'status'),
  syncRequest: (deviceId: string) => build(deviceId, 'up', 'sync-request'),
  sync: (deviceId: string) => build(deviceId, 'down', 'sync'),
  ack: (deviceId: string) => build(deviceId, 'down', 'ack'),
  cmd: (deviceId: string) => build(deviceId, 'down', 'cmd'),
  /** Everything one device may publish or subscribe to (its ACL). */
  deviceFilter: (deviceId: string) => `${build(deviceId, 'up', 'events').slice(0, -'/up/events'.length)}/#`,
  /** What a device subscribes to: every down kind addressed to it, and nothing else (TOPIC-4). */
  downFilter: (deviceId: string) => `${build(deviceId, 'down', 'sync').slice(0, -'/sync'.length)}/+`,
  /** What the cloud subscribes to; `group` makes it an MQTT 5 shared subscription (TOPIC-5). */
  allUp: (kind: UpKind, group?: string) => {
    const t = `${TOPIC_ROOT}/dev/+/up/${kind}`;
    return group ? `$share/${group}/${t}` : t;
  },
} as const;

const UP = new Set<string>(UP_KINDS);
const DOWN = new Set<string>(DOWN_KINDS);

/** Parses a concrete (wildcard-free) topic; null for anything not in the table. */
export function parseTopic(topic: unknown): ParsedTopic | null {
  if (typeof topic !== 'string' || topic.length > 256) return null;
  const parts = topic.split('/');
  if (parts.length !== 6) return null;
  const [root, version, dev, deviceId, direction, kind] = parts as [string, string, string, string, string, string];
  if (`${root}/${version}` !== TOPIC_ROOT || dev !== 'dev' || !isDeviceId(deviceId)) return null;
  if (direction === 'up' && UP.has(kind)) return { deviceId, direction, kind: kind as UpKind };
  if (direction === 'down' && DOWN.has(kind)) return { deviceId, direction, kind: kind as DownKind };
  return null;
}
