import { encodeWiegand } from '@gatehouse/protocol';
import { describe, expect, it } from 'vitest';
import { TimedFakeGpio, VirtualLoop } from '../src/hardware/gpio-fake.js';
import { WiegandAssembler, WiegandReader } from '../src/hardware/wiegand.js';
import { runWiegandLoad } from './gpio-load.js';

const ms = (x: number) => BigInt(Math.round(x * 1e6));

describe('Wiegand under load: character device vs sysfs (simulated event loop)', () => {
  it('on a free loop both backends decode all 1000 frames: the fakes lose nothing by themselves', () => {
    const idle = { blockMs: [0, 0] as [number, number], freeMeanMs: 1e12 };
    for (const backend of ['cdev', 'sysfs'] as const) {
      const r = runWiegandLoad({ backend, ...idle });
      expect(r.load.blocked_fraction).toBe(0);
      expect(r).toMatchObject({ frames: 1000, frames_ok: 1000, bits_lost_per_1000_frames: 0, frames_decoded: 1000 });
    }
  });

  it('with the loop blocked 5-60 ms at a time, cdev decodes every frame and sysfs loses bits and frames', () => {
    const cdev = runWiegandLoad({ backend: 'cdev', seed: 7 });
    const sysfs = runWiegandLoad({ backend: 'sysfs', seed: 7 });
    // The same frames and the same blocks for both (one seed).
    expect(cdev.load).toEqual(sysfs.load);
    expect(cdev.load.blocked_fraction).toBeGreaterThan(0.1);
    expect(cdev).toMatchObject({ frames: 1000, frames_ok: 1000, bits_lost_per_1000_frames: 0, frames_decoded: 1000 });
    expect(sysfs.bits_lost_per_1000_frames).toBeGreaterThan(0);
    expect(sysfs.frames_ok).toBeLessThan(1000);
  });

  it('a frame cut in two by a block longer than the frame timeout stays whole with kernel timestamps', () => {
    // One 26-bit frame; the loop blocks 40 ms (> 25 ms timeout) after its 5th bit: at the block's end Node runs
    // the expired silence timer before the queued I/O, which must not close the frame early.
    const bits = encodeWiegand('w26', 12, 3456);
    const out: Record<string, string[]> = {};
    for (const mode of ['cdev', 'sysfs'] as const) {
      const loop = new VirtualLoop();
      const gpio = new TimedFakeGpio(mode, loop);
      const reader = new WiegandReader({ type: 'wiegand', name: 'r', d0: 5, d1: 6, direction: 'in' }, gpio, loop);
      const got: string[] = [];
      reader.onInput((i) => got.push(String(i.data)));
      void reader.start();
      [...bits].forEach((b, i) => {
        gpio.pulseLow(b === '1' ? 6 : 5, ms(1 + 2 * i), 50_000n);
      });
      loop.block(ms(10), ms(40));
      loop.run();
      out[mode] = got;
    }
    expect(out.cdev).toEqual([`W26:${bits}`]);
    // sysfs: the bits whose pulses were over before the loop read them are gone.
    expect(out.sysfs).not.toEqual([`W26:${bits}`]);
  });
});

describe('WiegandAssembler with edge timestamps', () => {
  const assemble = (events: [0 | 1, bigint | undefined][], nowNs: bigint) => {
    const loop = new VirtualLoop();
    const frames: string[] = [];
    const a = new WiegandAssembler(25, (b) => frames.push(b), loop);
    // All delivered in one batch at nowNs, as after a blocked loop.
    loop.io(nowNs, () => {
      for (const [b, t] of events) a.bit(b, t);
    });
    loop.run();
    return frames;
  };

  it('splits one late batch into the frames the reader sent, by the gaps between timestamps', () => {
    const f1 = '10110';
    const f2 = '0111';
    const events: [0 | 1, bigint][] = [
      ...[...f1].map((b, i): [0 | 1, bigint] => [b === '1' ? 1 : 0, ms(2 * i)]),
      ...[...f2].map((b, i): [0 | 1, bigint] => [b === '1' ? 1 : 0, ms(100 + 2 * i)]),
    ];
    expect(assemble(events, ms(200))).toEqual([f1, f2]);
  });

  it('puts D0 and D1 bits back in the order they happened when the lines deliver them separately', () => {
    const sentBits = '1100101';
    const timed = [...sentBits].map((b, i): [0 | 1, bigint] => [b === '1' ? 1 : 0, ms(2 * i)]);
    // All D1 (1) events first, then all D0 (0): how two lines' queues can drain.
    const byLine = [...timed.filter(([b]) => b === 1), ...timed.filter(([b]) => b === 0)];
    expect(assemble(byLine, ms(50))).toEqual([sentBits]);
  });

  it('without timestamps (sysfs) the same batch merges into one frame: why sysfs loses frames under load', () => {
    const events: [0 | 1, undefined][] = [...'101100111'].map((b) => [b === '1' ? 1 : 0, undefined]);
    expect(assemble(events, ms(200))).toEqual(['101100111']);
  });
});
