/** The `osdp` reader entry of the edge config: what is refused, and the field the message names. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

const base = (readers: object[]) => ({ dataDir: '/tmp/x', readers, relay: { type: 'simulated' } });
const osdp = (over: object = {}) => ({
  type: 'osdp',
  path: '/dev/ttyUSB0',
  baudRate: 9600,
  address: 0,
  secureChannel: { scbk: '00112233445566778899aabbccddeeff' },
  direction: 'in',
  ...over,
});
const refused = (readers: object[]) => {
  try {
    parseConfig(base(readers));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).field;
  }
  throw new Error('accepted');
};

describe('osdp reader config', () => {
  it('accepts the CONTRACT example, install mode, plain text, and several addresses on one path', () => {
    const cfg = parseConfig(
      base([
        osdp(),
        osdp({ address: 1, secureChannel: { install: true }, direction: 'out' }),
        osdp({ address: 126, secureChannel: false }),
        osdp({ path: '/dev/ttyUSB1', baudRate: 115200, address: 0 }),
      ]),
    );
    expect(cfg.readers.map((r) => r.name)).toEqual(['osdp-0', 'osdp-1', 'osdp-2', 'osdp-3']);
    expect(cfg.readers[1]).toMatchObject({ type: 'osdp', secureChannel: { install: true } });
  });

  it('refuses a bad key, address, speed or bus layout, naming the field', () => {
    expect(refused([osdp({ secureChannel: { scbk: 'abc' } })])).toBe('readers.0.secureChannel');
    expect(refused([osdp({ secureChannel: { scbk: `${'0'.repeat(31)}g` } })])).toBe('readers.0.secureChannel');
    expect(refused([osdp({ secureChannel: true })])).toBe('readers.0.secureChannel');
    expect(refused([osdp({ secureChannel: { install: false } })])).toBe('readers.0.secureChannel');
    expect(refused([osdp({ secureChannel: undefined })])).toBe('readers.0.secureChannel');
    expect(refused([osdp({ address: 127 })])).toBe('readers.0.address');
    expect(refused([osdp({ address: -1 })])).toBe('readers.0.address');
    expect(refused([osdp({ baudRate: 1234 })])).toBe('readers.0.baudRate');
    expect(refused([osdp(), osdp({ baudRate: 19200, address: 1 })])).toBe('readers.1.baudRate');
    expect(refused([osdp(), osdp()])).toBe('readers.1.address');
    expect(refused([osdp({ scbk: 'x' })])).toBe('readers.0.scbk');
  });
});
