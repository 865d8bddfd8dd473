/**
 * npm run bench:gpio — Wiegand bits lost under load, per GPIO backend.
 *
 * 1000 frames (26- and 34-bit in turn, 2 ms between bits, 50 µs pulses) through the WiegandReader while the
 * event loop is blocked for random intervals, on the simulated clock and GPIO of edge-agent/src/hardware/gpio-fake.ts
 * (the character device: every edge queued with its kernel timestamp; sysfs through onoff: one "changed" flag per
 * line and the value read when the loop gets to it). Prints one JSON line per backend and load, then the ratio.
 * Env: BENCH_GPIO_FRAMES, BENCH_GPIO_SEED.
 */
import { runWiegandLoad } from '@gatehouse/edge-agent/testing';

const frames = Number(process.env.BENCH_GPIO_FRAMES ?? 1000);
const seed = Number(process.env.BENCH_GPIO_SEED ?? 1);
const loads = {
  // A loop blocked 5-60 ms at a time, ~30% of the time: a sync batch, a big JSON parse, a slow SD card write.
  heavy: { blockMs: [5, 60] as [number, number], freeMeanMs: 80 },
  // Short stalls now and then (GC, a prepared statement): 2-10 ms, ~3% of the time.
  light: { blockMs: [2, 10] as [number, number], freeMeanMs: 200 },
  // No load, but 100 µs from an edge to the callback instead of 20 µs (a slow core waking the epoll thread and
  // then the main thread): longer than a 50 µs pulse, so onoff reads the line back high and drops the bit.
  'idle, 100 µs wake-up': { blockMs: [0, 0] as [number, number], freeMeanMs: 1e12, latencyUs: 100 },
};
for (const [name, load] of Object.entries(loads)) {
  const results = (['cdev', 'sysfs'] as const).map((backend) => ({
    ...runWiegandLoad({ backend, frames, seed, ...load }),
    scenario: name,
  }));
  for (const r of results) console.log(JSON.stringify(r));
  const [cdev, sysfs] = results;
  if (!cdev || !sysfs) continue;
  console.log(
    JSON.stringify({
      bench: 'gpio',
      scenario: name,
      ratio: 'sysfs bits lost / cdev bits lost',
      value:
        cdev.bits_lost_per_1000_frames === 0
          ? sysfs.bits_lost_per_1000_frames === 0
            ? 1
            : null
          : sysfs.bits_lost_per_1000_frames / cdev.bits_lost_per_1000_frames,
      frames_ok: { cdev: cdev.frames_ok, sysfs: sysfs.frames_ok },
      note: cdev.bits_lost_per_1000_frames === 0 ? 'cdev lost no bit: the ratio is unbounded (null)' : undefined,
    }),
  );
}
