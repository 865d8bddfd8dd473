/**
 * One contract every reader driver meets (mqtt.js-style: one suite, run per
 * implementation). An adapter says how to build the reader and how to make
 * "the device" deliver a line.
 */
import { parseCredential } from '@gatehouse/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reader, ReaderInput } from '../src/hardware/types.js';

export interface ReaderAdapter {
  name: string;
  create(direction: 'in' | 'out'): Reader;
  /** The device sends one complete scan (adapter adds framing). */
  deliver(reader: Reader, text: string): Promise<void>;
  /** The device sends bytes that are not a scan (noise, cut line); undefined if the transport cannot. */
  deliverGarbage?(reader: Reader): Promise<void>;
  cleanup?(): Promise<void>;
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

export function readerContract(a: ReaderAdapter): void {
  describe(`reader contract: ${a.name}`, () => {
    const started: Reader[] = [];
    afterEach(async () => {
      for (const r of started.splice(0)) await r.stop();
      await a.cleanup?.();
    });
    const start = async (direction: 'in' | 'out' = 'in') => {
      const r = a.create(direction);
      const got: ReaderInput[] = [];
      r.onInput((i) => got.push(i));
      await r.start();
      started.push(r);
      return { r, got };
    };
    const text = (i: ReaderInput | undefined) =>
      i === undefined ? undefined : typeof i.data === 'string' ? i.data : Buffer.from(i.data).toString('latin1');

    it('is healthy once started and reports its name and type', async () => {
      const { r } = await start();
      expect(r.health()).toMatchObject({ name: r.name, type: r.type, healthy: true });
    });

    it('delivers each scan once, with its reader name, direction and a receive time', async () => {
      const { r, got } = await start('out');
      const before = performance.now();
      await a.deliver(r, 'CARD:12345');
      await a.deliver(r, 'CARD:777');
      await until(() => got.length >= 2);
      expect(got.map(text)).toEqual(['CARD:12345', 'CARD:777']);
      expect(got[0]).toMatchObject({ reader: r.name, direction: 'out' });
      expect(got[0]!.receivedAt).toBeGreaterThanOrEqual(before);
      expect(got[0]!.receivedAt).toBeLessThanOrEqual(performance.now());
    });

    it('garbage never stops the next good scan', async () => {
      const { r, got } = await start();
      if (a.deliverGarbage) await a.deliverGarbage(r);
      await a.deliver(r, 'CARD:4242');
      await until(() => got.some((g) => text(g) === 'CARD:4242'));
      for (const g of got.filter((x) => text(x) !== 'CARD:4242')) expect(parseCredential(g.data).kind).toBe('malformed');
    });

    it('stops: unhealthy and silent afterwards', async () => {
      const { r, got } = await start();
      await r.stop();
      expect(r.health().healthy).toBe(false);
      await a.deliver(r, 'CARD:1').catch(() => {});
      await new Promise((res) => setTimeout(res, 50));
      expect(got).toHaveLength(0);
    });
  });
}
