import { parseCredential } from '@gatehouse/protocol';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { SerialQrReaderConfig } from '../src/config.js';
import { LineFramer } from '../src/hardware/line-framer.js';
import type { PortFactory } from '../src/hardware/serial-port.js';
import { SerialQrReader } from '../src/hardware/serial-qr.js';
import type { Reader, ReaderInput } from '../src/hardware/types.js';
import { readerContract } from './reader-contract.js';

type MockPort = InstanceType<typeof SerialPortMock>;
let n = 0;
const ports = new Map<Reader, MockPort[]>();

function mockReader(cfg: Partial<SerialQrReaderConfig> = {}, opts: { retryMinMs?: number } = {}) {
  const path = `/dev/mock${++n}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: false });
  const mine: MockPort[] = [];
  const openPort: PortFactory = (p, baudRate) => {
    const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
    mine.push(port);
    return port;
  };
  const reader = new SerialQrReader(
    { type: 'serial-qr', name: `qr${n}`, path, direction: 'in', ...cfg },
    { openPort, retryMinMs: opts.retryMinMs ?? 20, retryMaxMs: 100, idleMs: 60 },
  );
  ports.set(reader, mine);
  return { reader, path, ports: mine };
}

const emit = (r: Reader, bytes: Buffer | string) => {
  const port = ports.get(r)?.at(-1);
  if (!port?.port) throw new Error('port not open');
  port.port.emitData(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
};
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await tick(5);
  }
};

readerContract({
  name: 'serial-qr (SerialPortMock)',
  create: (direction) => {
    const { reader } = mockReader({ direction });
    return reader;
  },
  deliver: async (r, text) => {
    emit(r, `${text}\r`);
    await tick();
  },
  deliverGarbage: async (r) => {
    emit(r, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d])); // binary noise ending in CR
    emit(r, Buffer.from('x'.repeat(600))); // over-long, no end yet
    emit(r, '\r');
    await tick();
  },
  cleanup: async () => {
    SerialPortMock.binding.reset();
  },
});

describe('serial-qr framing', () => {
  const started: SerialQrReader[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
    SerialPortMock.binding.reset();
  });
  const start = async (cfg: Partial<SerialQrReaderConfig> = {}) => {
    const m = mockReader(cfg);
    const got: ReaderInput[] = [];
    m.reader.onInput((i) => got.push(i));
    await m.reader.start();
    started.push(m.reader);
    const texts = () => got.map((g) => Buffer.from(g.data as Uint8Array).toString('latin1'));
    return { ...m, got, texts };
  };

  it.each([
    ['CR', 'CARD:1\rCARD:2\r'],
    ['LF', 'CARD:1\nCARD:2\n'],
    ['CRLF', 'CARD:1\r\nCARD:2\r\n'],
  ] as const)('splits lines ending in %s, also when they arrive byte by byte', async (lineEnding, wire) => {
    const { reader, texts } = await start({ lineEnding });
    for (const ch of wire) emit(reader, ch);
    await until(() => texts().length === 2);
    expect(texts()).toEqual(['CARD:1', 'CARD:2']);
  });

  it('a scanner sending CRLF still reads on a port configured for CR', async () => {
    const { reader, texts } = await start({ lineEnding: 'CR' });
    emit(reader, 'CARD:1\r\nCARD:2\r\n');
    await until(() => texts().length === 2);
    expect(texts()).toEqual(['CARD:1', 'CARD:2']);
  });

  it('an over-long line (> 512 bytes) is dropped as malformed and the next scan reads', async () => {
    const { reader, got, texts } = await start();
    emit(reader, `${'A'.repeat(700)}\rCARD:9\r`);
    await until(() => texts().includes('CARD:9'));
    expect(got).toHaveLength(2);
    expect(parseCredential(got[0]!.data)).toEqual({ kind: 'malformed', detail: 'too long' });
  });

  it('a half line followed by silence is dropped, not glued to the next scan', async () => {
    const { reader, got, texts } = await start();
    emit(reader, 'GHD1:ABCDEF');
    await tick(120);
    emit(reader, 'CARD:5\r');
    await until(() => texts().includes('CARD:5'));
    expect(texts()).toEqual(['GHD1:ABCDEF', 'CARD:5']);
    expect(parseCredential(got[0]!.data).kind).toBe('malformed');
  });

  it('noise glued to the front of a scan is cut at the credential prefix', async () => {
    const { reader, texts } = await start();
    emit(reader, Buffer.concat([Buffer.from([0xfe, 0x00, 0x7f]), Buffer.from('card:77\r')]));
    await until(() => texts().length === 1);
    expect(texts()).toEqual(['card:77']);
  });

  it('when the device disappears it is reported unhealthy and reopened with back-off', async () => {
    const { reader, path, ports: mine, texts } = await start();
    expect(reader.health().healthy).toBe(true);
    SerialPortMock.binding.reset(); // unplugged: the path is gone
    mine.at(-1)!.close();
    await until(() => !reader.health().healthy);
    await tick(150);
    expect(reader.health()).toMatchObject({ healthy: false, detail: expect.stringMatching(/cannot open/) });
    const attempts = reader.stats.reopens;
    expect(attempts).toBeGreaterThanOrEqual(2);
    SerialPortMock.binding.createPort(path, { echo: false, record: false }); // plugged back in
    await until(() => reader.health().healthy, 3000);
    emit(reader, 'CARD:3\r');
    await until(() => texts().includes('CARD:3'));
  });

  it('a port that cannot be opened at start leaves the reader unhealthy, not the daemon dead', async () => {
    const reader = new SerialQrReader(
      { type: 'serial-qr', name: 'missing', path: '/dev/nope', direction: 'in' },
      { openPort: (p, b) => new SerialPortMock({ path: p, baudRate: b, autoOpen: false }), retryMinMs: 20, retryMaxMs: 40 },
    );
    await reader.start();
    started.push(reader);
    expect(reader.health()).toMatchObject({ healthy: false, detail: expect.stringMatching(/cannot open \/dev\/nope/) });
  });
});

describe('LineFramer', () => {
  it('bounds memory: an endless line without terminator is cut at maxLength + 1', () => {
    const dropped: [number, string][] = [];
    const f = new LineFramer({ maxLength: 16, idleMs: 10_000, onLine: () => {}, onDropped: (b, why) => dropped.push([b.length, why]) });
    for (let i = 0; i < 100; i++) f.push(Buffer.from('0123456789'));
    expect(dropped).toEqual([[17, 'too_long']]);
    f.flushIdle();
    f.dispose();
  });
});
