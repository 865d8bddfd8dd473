import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../src/config.js';
import { tempDir } from './tmp.js';

const CONTRACT_EXAMPLE = {
  dataDir: '/var/lib/gatehouse-edge',
  localPort: 8181,
  readers: [
    { type: 'serial-qr', path: '/dev/ttyACM0', baudRate: 9600, direction: 'in' },
    { type: 'wiegand', d0: 5, d1: 6, direction: 'out' },
    { type: 'simulated', direction: 'in' },
  ],
  relay: { type: 'gpio', pin: 17, activeLow: false, pulseMs: 3000 },
  passageSensor: { type: 'gpio', pin: 27 },
};

const fieldOf = (v: unknown): string => {
  try {
    parseConfig(v);
  } catch (e) {
    if (e instanceof ConfigError) return e.field;
    throw e;
  }
  throw new Error('accepted');
};

describe('edge config', () => {
  it('accepts the CONTRACT.md example and fills defaults', () => {
    const c = parseConfig(CONTRACT_EXAMPLE);
    expect(c.readers.map((r) => r.name)).toEqual(['serial-qr-0', 'wiegand-1', 'simulated-2']);
    expect(c).toMatchObject({ localPort: 8181, debounceMs: 1500, checkpointIntervalMs: 5000, passageSensor: { pin: 27 } });
  });

  it('ALARM-1: a door contact with heldOpenSeconds (default 30) and readerOfflineSeconds (default 5); a bad one is named', () => {
    expect(parseConfig(CONTRACT_EXAMPLE)).toMatchObject({ heldOpenSeconds: 30, readerOfflineSeconds: 5 });
    expect(parseConfig(CONTRACT_EXAMPLE).doorContact).toBeUndefined();
    const c = parseConfig({ ...CONTRACT_EXAMPLE, doorContact: { type: 'gpio', pin: 22, activeLow: true }, heldOpenSeconds: 10 });
    expect(c).toMatchObject({ doorContact: { type: 'gpio', pin: 22, activeLow: true }, heldOpenSeconds: 10 });
    expect(parseConfig({ ...CONTRACT_EXAMPLE, doorContact: { type: 'simulated' } }).doorContact).toEqual({ type: 'simulated' });
    expect(fieldOf({ ...CONTRACT_EXAMPLE, doorContact: { type: 'reed' } })).toBe('doorContact.type');
    expect(() => parseConfig({ ...CONTRACT_EXAMPLE, doorContact: { type: 'gpio' } })).toThrow(/doorContact: .*pin/);
    expect(fieldOf({ ...CONTRACT_EXAMPLE, doorContact: { type: 'gpio', pin: 2000 } })).toBe('doorContact.pin');
    expect(fieldOf({ ...CONTRACT_EXAMPLE, heldOpenSeconds: 0 })).toBe('heldOpenSeconds');
  });

  it('accepts the enrollment fields', () => {
    const c = parseConfig({
      ...CONTRACT_EXAMPLE,
      cloud: 'https://gh.example',
      deviceId: 'dev_1',
      mqtt: { url: 'mqtts://b:8883', username: 'dev_1', password: 'x' },
      orgPublicKey: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(c.deviceId).toBe('dev_1');
  });

  it.each([
    [{ ...CONTRACT_EXAMPLE, dataDir: 5 }, 'dataDir'],
    [{ ...CONTRACT_EXAMPLE, localPort: 70000 }, 'localPort'],
    [{ ...CONTRACT_EXAMPLE, readers: [] }, 'readers'],
    [{ ...CONTRACT_EXAMPLE, readers: [{ type: 'serial-qr', path: '/dev/x', baudRate: 'fast', direction: 'in' }] }, 'readers.0.baudRate'],
    [{ ...CONTRACT_EXAMPLE, readers: [CONTRACT_EXAMPLE.readers[0], { type: 'wiegand', d0: 5, direction: 'in' }] }, 'readers.1'],
    [{ ...CONTRACT_EXAMPLE, readers: [{ type: 'nfc', direction: 'in' }] }, 'readers.0.type'],
    [{ ...CONTRACT_EXAMPLE, readers: [{ type: 'simulated', direction: 'sideways' }] }, 'readers.0.direction'],
    [{ ...CONTRACT_EXAMPLE, relay: { type: 'gpio', pin: -1 } }, 'relay.pin'],
    [{ ...CONTRACT_EXAMPLE, relay: { type: 'gpio', pin: 17, pulsMs: 100 } }, 'relay.pulsMs'],
    [{ ...CONTRACT_EXAMPLE, passageSensor: { type: 'gpio' } }, 'passageSensor'],
    [{ ...CONTRACT_EXAMPLE, mqtt: { url: 'x' } }, 'mqtt'],
    [{ ...CONTRACT_EXAMPLE, typo: 1 }, 'typo'],
  ])('refuses a bad config naming the field (%#)', (cfg, field) => {
    expect(fieldOf(cfg)).toBe(field);
  });

  it('names duplicate reader names', () => {
    expect(() =>
      parseConfig({
        ...CONTRACT_EXAMPLE,
        readers: [
          { type: 'simulated', name: 'a', direction: 'in' },
          { type: 'simulated', name: 'a', direction: 'out' },
        ],
      }),
    ).toThrow(/readers\.1\.name: duplicate/);
  });

  it('reports an unreadable or non-JSON file as such', () => {
    const t = tempDir();
    try {
      expect(() => loadConfig(join(t.dir, 'none.json'))).toThrow(/cannot read/);
      writeFileSync(join(t.dir, 'bad.json'), '{');
      expect(() => loadConfig(join(t.dir, 'bad.json'))).toThrow(/not JSON/);
    } finally {
      t.cleanup();
    }
  });
});
