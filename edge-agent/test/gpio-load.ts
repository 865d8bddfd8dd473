/**
 * Wiegand frames through a GPIO backend while the event loop is blocked now and then (simulated load), on the
 * simulated clock of gpio-fake.ts: what test/gpio-load.test.ts asserts and bench/gpio.ts prints.
 */
import { encodeWiegand } from '@gatehouse/protocol';
import { TimedFakeGpio, VirtualLoop } from '../src/hardware/gpio-fake.js';
import { WiegandReader } from '../src/hardware/wiegand.js';

export interface WiegandLoadOptions {
  backend: 'cdev' | 'sysfs';
  frames?: number;
  seed?: number;
  /** Time between bits (Wiegand: 200 µs to 20 ms; readers commonly 1-2 ms). */
  bitIntervalUs?: number;
  /** Width of a bit's low pulse (commonly 50 µs, 20-100 µs). */
  pulseUs?: number;
  /** Quiet time between one frame's last bit and the next frame's first, uniform in this range. */
  frameGapMs?: [number, number];
  /** The loop runs free for an exponential time of this mean, then is blocked for a uniform time in blockMs. */
  freeMeanMs?: number;
  blockMs?: [number, number];
  /** Edge to callback on a free loop. */
  latencyUs?: number;
}

export interface WiegandLoadResult {
  bench: 'gpio';
  backend: 'cdev' | 'sysfs';
  frames: number;
  frames_ok: number;
  bits_sent: number;
  bits_received: number;
  bits_lost_per_1000_frames: number;
  frames_decoded: number;
  load: { blocked_fraction: number; block_ms: [number, number]; free_mean_ms: number; latency_us: number };
}

/** Small deterministic PRNG (mulberry32): the same seed gives the same frames and the same load. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ms = (x: number) => BigInt(Math.round(x * 1e6));

export function runWiegandLoad(o: WiegandLoadOptions): WiegandLoadResult {
  const frames = o.frames ?? 1000;
  const rand = rng(o.seed ?? 1);
  const bitNs = BigInt(Math.round((o.bitIntervalUs ?? 2000) * 1000));
  const pulseNs = BigInt(Math.round((o.pulseUs ?? 50) * 1000));
  const [gapMin, gapMax] = o.frameGapMs ?? [60, 300];
  const [blockMin, blockMax] = o.blockMs ?? [5, 60];
  const freeMean = o.freeMeanMs ?? 80;

  const loop = new VirtualLoop();
  const gpio = new TimedFakeGpio(o.backend, loop, { latencyNs: BigInt(Math.round((o.latencyUs ?? 20) * 1000)) });
  const reader = new WiegandReader({ type: 'wiegand', name: 'bench', d0: 5, d1: 6, direction: 'in' }, gpio, loop);
  const decoded: string[] = [];
  reader.onInput((i) => decoded.push(String(i.data).replace(/^W\d+\+?:/, '')));
  void reader.start();

  // The cards: 26- and 34-bit frames in turn, random facility and card numbers.
  const sent: string[] = [];
  let t = ms(10);
  for (let i = 0; i < frames; i++) {
    const bits =
      i % 2 === 0
        ? encodeWiegand('w26', Math.floor(rand() * 256), Math.floor(rand() * 65536))
        : encodeWiegand('w34', Math.floor(rand() * 65536), Math.floor(rand() * 65536));
    sent.push(bits);
    for (const b of bits) {
      gpio.pulseLow(b === '1' ? 6 : 5, t, pulseNs);
      t += bitNs;
    }
    t += ms(gapMin + rand() * (gapMax - gapMin));
  }
  const end = t + ms(100);

  // The load: free for Exp(freeMean), blocked for U(blockMin, blockMax), to the end.
  let at = ms(-Math.log(1 - rand()) * freeMean);
  while (at < end) {
    const d = ms(blockMin + rand() * (blockMax - blockMin));
    loop.block(at, d);
    at += d + ms(-Math.log(1 - rand()) * freeMean);
  }
  const total = loop.run();

  // A sent frame is decoded correctly when exactly its bits came out as one frame (each output used once).
  const remaining = new Map<string, number>();
  for (const d of decoded) remaining.set(d, (remaining.get(d) ?? 0) + 1);
  let ok = 0;
  for (const s of sent) {
    const n = remaining.get(s) ?? 0;
    if (n > 0) {
      ok++;
      remaining.set(s, n - 1);
    }
  }
  const bitsSent = sent.reduce((n, s) => n + s.length, 0);
  const bitsReceived = decoded.reduce((n, s) => n + s.length, 0);
  void reader.stop();
  return {
    bench: 'gpio',
    backend: o.backend,
    frames,
    frames_ok: ok,
    bits_sent: bitsSent,
    bits_received: bitsReceived,
    bits_lost_per_1000_frames: ((bitsSent - bitsReceived) * 1000) / frames,
    frames_decoded: decoded.length,
    load: {
      blocked_fraction: Math.round((Number(loop.blockedNs) / Number(total)) * 1000) / 1000,
      block_ms: [blockMin, blockMax],
      free_mean_ms: freeMean,
      latency_us: o.latencyUs ?? 20,
    },
  };
}
