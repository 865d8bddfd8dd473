/**
 * npm run bench:update-gap — how long scans are not read while a controller
 * updates itself (issue 16 item 4, target < 5 s on this machine).
 *
 * An installed release (the agent bundled with esbuild into one file, as a
 * release ships it; edge-agent/test/release-fixture.ts) runs under the test
 * supervisor (systemd's Restart=always, RestartSec=100ms, boot-guard first),
 * reading a real pty (socat) fed a distinct card every BENCH_INTERVAL_MS
 * (default 30). A signed update command arrives over MQTT; the agent
 * downloads a BENCH_PAYLOAD_MB (default 4) release, verifies, installs,
 * switches and exits; the new release starts and passes its 10 s health window.
 *
 * Printed (one JSON line): the gap (longest pause between two decisions),
 * the cards written during it (the port's open flushes what queued while no
 * agent listened, as a scanner's line is not read then), cards lost while an
 * agent was reading (must be 0), relay pulses whose event never reached the
 * cloud (must be 0: the outbox survives the switch), exit → new agent
 * listening, command → switch, command → done; and the floor: a bare
 * `node -e` start on this machine, with the gap's ratio to it.
 */
import { spawn } from 'node:child_process';
import { runUpdateGap } from '@gatehouse/edge-agent/testing';

async function nodeStart(args: string[]): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [...args, '-e', 'process.stdout.write("up")'], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.once('data', () => resolve());
    p.once('error', reject);
  });
  return performance.now() - t0;
}

async function floor(args: string[]): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) xs.push(await nodeStart(args));
  return xs.sort((a, b) => a - b)[2] ?? Number.NaN;
}

const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 30);
const payloadBytes = Number(process.env.BENCH_PAYLOAD_MB ?? 4) * 1024 * 1024;
const bare = await floor([]);
const r = await runUpdateGap({ intervalMs, payloadBytes, healthWindowS: 10, log: (s) => process.stderr.write(`${s}\n`) });
const out = {
  bench: 'update-gap',
  intervalMs,
  ...r,
  floorNodeStartMs: Math.round(bare),
  gapOverFloor: +(r.readerDownMs / bare).toFixed(1),
  targetMs: 5000,
  pass: r.lostWhileReading === 0 && r.pulsesWithoutEvent === 0 && r.readerDownMs < 5000,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(out.pass ? 0 : 1);
