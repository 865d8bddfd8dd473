import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../scripts/write-schemas.js';
import { type CheckinEvent, generateDeviceKeyPair, openOsdpKey, osdpKeyId, sealOsdpKey, uuidv7, validators } from '../src/index.js';

const event = (over: Partial<CheckinEvent> = {}): CheckinEvent => ({
  id: uuidv7(),
  type: 'attempt',
  gateId: 'gate-1',
  passId: uuidv7(),
  credentialKind: 'dynamic',
  direction: 'in',
  allow: true,
  reason: 'ok',
  occurredAt: Date.now(),
  ...over,
});

const samples = {
  eventsBatch: {
    v: 1,
    deviceId: 'dev-1',
    batchId: uuidv7(),
    events: [event(), event({ allow: false, reason: 'malformed', passId: null, credentialKind: 'none' })],
  },
  status: {
    v: 1,
    deviceId: 'dev-1',
    state: 'online',
    version: '0.1.0',
    cacheSeq: 12,
    outboxDepth: 0,
    lockdown: false,
    hardware: [{ name: 'qr-1', type: 'serial-qr', healthy: true }],
    ts: Date.now(),
  },
  syncRequest: { v: 1, deviceId: 'dev-1', fromSeq: 0, full: true, ts: Date.now() },
  syncDelta: {
    v: 1,
    kind: 'delta',
    orgId: 'org-1',
    deviceId: 'dev-1',
    seq: 3,
    issuedAt: Date.now(),
    siteId: 'site-1',
    fromSeq: 2,
    epk: null,
    changes: [
      { seq: 3, entity: 'zone', op: 'upsert', id: 'z1', data: { id: 'z1', siteId: 'site-1', name: 'Lobby' } },
      { seq: 3, entity: 'pass', op: 'delete', id: uuidv7() },
    ],
  },
  syncSnapshotChunk: {
    v: 1,
    kind: 'snapshot',
    orgId: 'org-1',
    deviceId: 'dev-1',
    seq: 10,
    issuedAt: Date.now(),
    siteId: 'site-1',
    snapshotId: uuidv7(),
    chunk: 0,
    chunks: 1,
    site: { id: 'site-1', name: 'HQ', timezone: 'Europe/Paris' },
    epk: null,
    passes: [],
    rules: [],
    zones: [],
    gates: [{ id: 'g1', siteId: 'site-1', zoneId: 'z1', name: 'Main', direction: 'both', lockdown: false, emergency: false }],
    holidays: [{ id: 'h1', siteId: 'site-1', date: '2026-12-25', kind: 'closed', name: 'Christmas', windows: [] }],
    presence: [{ passId: uuidv7(), useCount: 1, lastDirection: 'in', lastAt: Date.now() }],
  },
  command: {
    v: 1,
    kind: 'cmd',
    orgId: 'org-1',
    deviceId: 'dev-1',
    seq: 7,
    issuedAt: Date.now(),
    id: uuidv7(),
    type: 'open',
    expiresAt: Date.now() + 30_000,
  },
  ack: { v: 1, kind: 'ack', orgId: 'org-1', deviceId: 'dev-1', seq: 1, issuedAt: Date.now(), batchId: uuidv7(), ids: [uuidv7()] },
} as const;

describe('message schemas (SPEC MSG-*)', () => {
  it.each(Object.entries(samples))('MSG-1: accepts a well-formed %s, as a value, as JSON text and as bytes', (name, sample) => {
    const v = validators[name as keyof typeof samples];
    expect(v.validate(sample)).toEqual({ ok: true, value: sample });
    expect(v.parse(JSON.stringify(sample)).ok).toBe(true);
    expect(v.parse(Buffer.from(JSON.stringify(sample))).ok).toBe(true);
  });

  it.each(Object.entries(samples))(
    'MSG-1: rejects %s without its version, with an unknown version, or with an extra field',
    (name, sample) => {
      const v = validators[name as keyof typeof samples];
      const { v: _v, ...noVersion } = sample;
      expect(v.check(noVersion)).toBe(false);
      expect(v.check({ ...sample, v: 2 })).toBe(false);
      expect(v.check({ ...sample, extra: 1 })).toBe(false);
    },
  );

  it('MSG-1: says what is wrong', () => {
    const r = validators.eventsBatch.validate({ ...samples.eventsBatch, events: [{ ...event(), reason: 'because' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join(' ')).toMatch(/events\/0\/reason/);
  });

  it('MSG-1, MSG-2: rejects an empty batch, a non-UUID event id, a negative time and an unknown reason', () => {
    const b = samples.eventsBatch;
    expect(validators.eventsBatch.check({ ...b, events: [] })).toBe(false);
    expect(validators.eventsBatch.check({ ...b, events: [event({ id: 'abc' })] })).toBe(false);
    expect(validators.eventsBatch.check({ ...b, events: [event({ occurredAt: -1 })] })).toBe(false);
    expect(validators.checkinEvent.check({ ...event(), reason: 'nope' })).toBe(false);
    expect(validators.status.check({ ...samples.status, deviceId: 'a/b' })).toBe(false);
  });

  it('MSG-5, MSG-6, MSG-7, MSG-8: the down-message union tells each kind apart', () => {
    for (const s of [samples.syncDelta, samples.syncSnapshotChunk, samples.command, samples.ack])
      expect(validators.downMessage.check(s)).toBe(true);
    expect(validators.downMessage.check({ ...samples.command, kind: 'delta' })).toBe(false);
  });

  it('MSG-9: every cloud→edge message carries the header {v, orgId, deviceId, seq, issuedAt}', () => {
    for (const name of ['syncDelta', 'syncSnapshotChunk', 'command', 'ack'] as const) {
      for (const field of ['v', 'orgId', 'deviceId', 'seq', 'issuedAt']) {
        const headless: Record<string, unknown> = { ...samples[name] };
        delete headless[field];
        expect(validators[name].check(headless), `${name} without ${field}`).toBe(false);
        expect(validators.downMessage.check(headless), `${name} without ${field}`).toBe(false);
      }
      expect(validators[name].check({ ...samples[name], seq: -1 }), `${name} with a negative seq`).toBe(false);
    }
  });
});

describe('MSG-1: validators never throw (property)', () => {
  const all = Object.values(validators);
  it('on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const v of all) {
          const r = v.validate(value);
          expect(typeof r.ok).toBe('boolean');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('on random mutations of valid messages', () => {
    const entries = Object.entries(samples);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: entries.length - 1 }), fc.string(), fc.jsonValue(), (i, key, value) => {
        const [name, sample] = entries[i] ?? entries[0]!;
        const mutated = { ...sample, [key]: value };
        const r = validators[name as keyof typeof samples].validate(mutated);
        if (r.ok) expect(key in sample).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('on random bytes and text as payloads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }), (bytes, text) => {
        for (const v of all) {
          expect(v.parse(bytes).ok).toBe(false);
          expect(typeof v.parse(text).ok).toBe('boolean');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('JSON Schema files (SPEC MSG-9)', () => {
  const dir = new URL('../schemas/', import.meta.url);
  it('MSG-9: are exactly what scripts/write-schemas.ts produces', () => {
    for (const [file, text] of Object.entries(schemaFiles())) expect(readFileSync(new URL(file, dir), 'utf8'), file).toBe(text);
  });

  it('MSG-9: judge messages as the TypeBox validators do, under an independent validator (Ajv, draft 2020-12)', () => {
    const ajv = new Ajv2020({ strict: false });
    const pairs = [
      ['events-batch', 'eventsBatch'],
      ['status', 'status'],
      ['sync-request', 'syncRequest'],
      ['sync-delta', 'syncDelta'],
      ['sync-snapshot-chunk', 'syncSnapshotChunk'],
      ['command', 'command'],
      ['ack', 'ack'],
    ] as const;
    for (const [file, name] of pairs) {
      const check = ajv.compile(JSON.parse(readFileSync(new URL(`${file}.json`, dir), 'utf8')));
      const sample = samples[name];
      expect(check(sample), file).toBe(true);
      expect(check({ ...sample, v: 2 }), file).toBe(false);
      fc.assert(
        fc.property(fc.string(), fc.jsonValue(), (key, value) => {
          const mutated = { ...sample, [key]: value };
          expect(check(mutated)).toBe(validators[name].check(mutated));
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe('osdp_keyset commands and reader key ids (SPEC CMD-5, MSG-3, MSG-7)', () => {
  const device = generateDeviceKeyPair();
  const scbk = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const keyset = { ...samples.command, type: 'osdp_keyset', reader: 'door', ...sealOsdpKey(device.publicKey, 'dev-1', 'door', scbk) };
  const commandSchema = () =>
    new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(new URL('../schemas/command.json', import.meta.url), 'utf8')));

  it('MSG-7: a keyset with its reader, epk and sealed key is a command and a down message; other commands need none of them', () => {
    expect(validators.command.validate(keyset)).toEqual({ ok: true, value: keyset });
    expect(validators.downMessage.check(keyset)).toBe(true);
    expect(validators.command.check(samples.command)).toBe(true);
    expect(commandSchema()(keyset)).toBe(true);
  });

  it.each(['reader', 'epk', 'secret'])('MSG-7: refuses a keyset without its %s, here and under the JSON Schema file', (field) => {
    const partial: Record<string, unknown> = { ...keyset };
    delete partial[field];
    expect(validators.command.check(partial)).toBe(false);
    expect(validators.downMessage.check(partial)).toBe(false);
    expect(commandSchema()(partial)).toBe(false);
  });

  it('MSG-7: refuses a keyset whose fields are malformed', () => {
    expect(validators.command.check({ ...keyset, reader: '' })).toBe(false);
    expect(validators.command.check({ ...keyset, epk: 'not a key' })).toBe(false);
    expect(validators.command.check({ ...keyset, secret: 'not base64!' })).toBe(false);
  });

  it('CMD-5: the key opens for its device and reader only, as the 16 bytes sent', () => {
    expect(openOsdpKey(device.privateKey, 'dev-1', keyset)?.equals(scbk)).toBe(true);
    expect(openOsdpKey(device.privateKey, 'dev-1', { ...keyset, reader: 'exit' })).toBeNull();
    expect(openOsdpKey(device.privateKey, 'dev-2', keyset)).toBeNull();
    expect(openOsdpKey(generateDeviceKeyPair().privateKey, 'dev-1', keyset)).toBeNull();
    expect(keyset.secret).not.toContain(scbk.toString('hex'));
    expect(Buffer.from(keyset.secret, 'base64').includes(scbk)).toBe(false);
    expect(() => sealOsdpKey(device.publicKey, 'dev-1', 'door', Buffer.alloc(15))).toThrow(/16 bytes/);
  });

  it('CMD-5: a key id is the first 8 hex digits of the SHA-256 of the key', () => {
    expect(osdpKeyId(scbk)).toBe(createHash('sha256').update(scbk).digest('hex').slice(0, 8));
    expect(osdpKeyId(scbk)).not.toBe(osdpKeyId(Buffer.alloc(16)));
  });

  it('MSG-3: a reader entry may carry its key id and a failed keyset; a key id is 8 hex digits', () => {
    const entry = {
      name: 'door',
      type: 'osdp',
      healthy: true,
      keyId: osdpKeyId(scbk),
      keyFailed: { keyId: 'deadbeef', detail: 'KEYSET refused' },
    };
    const status = { ...samples.status, hardware: [entry] };
    expect(validators.status.check(status)).toBe(true);
    expect(validators.status.check({ ...status, hardware: [{ ...entry, keyId: scbk.toString('hex') }] })).toBe(false);
    expect(validators.status.check({ ...status, hardware: [{ ...entry, keyFailed: { keyId: 'deadbeef' } }] })).toBe(false);
  });
});

describe('update commands and update status (SPEC CMD-6, MSG-3, MSG-7)', () => {
  const job = {
    jobId: uuidv7(),
    url: 'https://cloud.example/api/edge/releases/0190f000-0000-7000-8000-000000000001/release.json',
    version: '0.2.0',
    serial: 2,
    allowDowngrade: false,
    healthWindowS: 60,
  };
  const update = { ...samples.command, type: 'update', update: job };
  const file = (name: string) =>
    new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(new URL(`../schemas/${name}.json`, import.meta.url), 'utf8')));
  const states = ['downloading', 'verifying', 'installing', 'restarting', 'checking_health', 'done', 'failed', 'rolled_back'];
  const report = {
    jobId: job.jobId,
    state: 'checking_health',
    version: '0.2.0',
    detail: 'waiting 60 s',
    log: ['downloaded 3 files'],
    ts: 1,
  };

  it('MSG-7, CMD-6: an update with its job is a command and a down message, here and under the JSON Schema file', () => {
    expect(validators.command.validate(update)).toEqual({ ok: true, value: update });
    expect(validators.downMessage.check(update)).toBe(true);
    expect(file('command')(update)).toBe(true);
  });

  it('MSG-7, CMD-6: refuses an update without its job, here and under the JSON Schema file; a keyset still needs its key', () => {
    const { update: _job, ...bare } = update;
    expect(validators.command.check(bare)).toBe(false);
    expect(validators.downMessage.check(bare)).toBe(false);
    expect(file('command')(bare)).toBe(false);
    expect(validators.command.check({ ...samples.command, type: 'osdp_keyset' })).toBe(false);
    expect(file('command')({ ...samples.command, type: 'osdp_keyset' })).toBe(false);
  });

  it.each([
    ['a relative URL', { url: '/api/edge/releases/x/release.json' }],
    ['a file URL', { url: 'file:///etc/passwd' }],
    ['a URL with a space', { url: 'https://cloud.example/a b' }],
    ['a non-semver version', { version: 'v0.2' }],
    ['a zero serial', { serial: 0 }],
    ['a health window under 10 s', { healthWindowS: 9 }],
    ['a health window over an hour', { healthWindowS: 3601 }],
    ['a job id that is not a UUID', { jobId: 'job-1' }],
    ['an extra field', { force: true }],
  ])('CMD-6: refuses an update job with %s', (_what, over) => {
    const bad = { ...update, update: { ...job, ...over } };
    expect(validators.command.check(bad)).toBe(false);
    expect(file('command')(bad)).toBe(false);
  });

  it('MSG-3, CMD-6: a status may say which release runs and where the last update job stands, in every gate state', () => {
    for (const state of states) {
      const status = { ...samples.status, release: { version: '0.1.0', serial: 1 }, update: { ...report, state } };
      expect(validators.status.check(status), state).toBe(true);
      expect(file('status')(status), state).toBe(true);
    }
    expect(validators.status.check(samples.status)).toBe(true);
  });

  it('MSG-3, CMD-6: refuses cloud-only states, long logs and lines, and unknown fields in the update report', () => {
    const bad = [
      { ...report, state: 'pending' },
      { ...report, state: 'postponed' },
      { ...report, log: Array.from({ length: 21 }, () => 'line') },
      { ...report, log: ['x'.repeat(301)] },
      { ...report, detail: 'x'.repeat(501) },
      { ...report, extra: 1 },
    ];
    for (const u of bad) {
      expect(validators.status.check({ ...samples.status, update: u })).toBe(false);
      expect(file('status')({ ...samples.status, update: u })).toBe(false);
    }
    expect(validators.status.check({ ...samples.status, release: { version: '0.1.0' } })).toBe(false);
    expect(validators.status.check({ ...samples.status, release: { version: '0.1.0', serial: 1, extra: 1 } })).toBe(false);
  });
});
