/**
 * The OSDP path for bench:edge: a card presented at a simulated PD → the CP's poll picks it up over a real pty
 * (socat) at the given baud rate, with Secure Channel on → Gate.handle → relay command; then the reader's
 * feedback → the LED command as the PD sees it. A pty does not pace bytes to the baud rate, so the simulated PD
 * models the line: it acts on a command only after the command's wire time and answers after its reply's.
 * Env: BENCH_OSDP_CARDS (per baud rate), BENCH_OSDP=0 to skip.
 * Runs under `tsx --conditions=source` (the simulated PD is test support); bench/edge.ts starts it as a child so
 * its own figures stay on the built package. The last line printed is the figures as JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySeed, EdgeStore, Gate, OsdpBus, OsdpReader, parseSeed, SimulatedRelay } from '@gatehouse/edge-agent';
import { SimBus } from '@gatehouse/edge-agent/testing';
import type { PassRecord } from '@gatehouse/protocol';
import { oneGateSeed, sleep, summary } from './util.js';

export interface OsdpFigures {
  baud: number;
  cards: number;
  relayP50Ms: number;
  relayP99Ms: number;
  feedbackP50Ms: number;
  feedbackP99Ms: number;
}

const ms = (x: number) => Math.round(x * 10) / 10;

export const hasSocat = spawnSync('socat', ['-V']).status === 0;

async function onePath(baud: number, cards: number, dir: string): Promise<OsdpFigures> {
  const a = join(dir, `cp-${baud}`);
  const b = join(dir, `pd-${baud}`);
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(existsSync(a) && existsSync(b)); i++) await sleep(10);
  const day = 86_400_000;
  const now = Date.now();
  const passes: PassRecord[] = Array.from({ length: cards }, (_, i) => ({
    id: `0190f000-0000-7000-8000-${(0xb000 + i).toString(16).padStart(12, '0')}`,
    orgId: 'org-1',
    ruleId: 'rule-1',
    type: 'multi',
    status: 'active',
    validFrom: now - day,
    validTo: now + day,
    maxUses: null,
    totpSecret: null,
    card: { format: 'raw', number: String(5_000_000 + i) },
    escort: false,
  }));
  const store = new EdgeStore(join(dir, `osdp-${baud}.db`));
  applySeed(store, parseSeed(oneGateSeed({ timezone: 'UTC', passes })));
  const relay = new SimulatedRelay(200);
  const gate = new Gate({ store, relay, debounceMs: 0 });
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const sim = new SimBus(b, baud, [{ address: 0, scbk: key }]);
  sim.paceWire = true;
  await sim.start();
  const pd = sim.pd(0);
  const bus = new OsdpBus(a, baud);
  const reader = new OsdpReader(
    {
      type: 'osdp',
      name: 'bench',
      path: a,
      baudRate: baud as 9600 | 115200,
      address: 0,
      secureChannel: { scbk: key.toString('hex') },
      direction: 'in',
    },
    { bus },
  );
  const relayAt = new Map<string, number>();
  let decidedAt = 0;
  reader.onInput((input) => {
    const out = gate.handle(input);
    const t = performance.now();
    if (out.decision?.allow) relayAt.set(String(input.data), t);
    decidedAt = t;
    if (out.decision) reader.feedback({ allow: out.decision.allow, reason: out.decision.reason });
  });
  let ledAt = 0;
  pd.onLed = (l) => {
    ledAt = l.at;
  };
  await reader.start();
  if (!reader.status().online) throw new Error(`osdp bench: reader did not come online at ${baud}: ${reader.health().detail}`);
  const toRelay: number[] = [];
  const toLed: number[] = [];
  for (let i = 0; i < cards; i++) {
    ledAt = 0;
    decidedAt = 0;
    pd.presentCard(5_000_000 + i);
    const presented = pd.presentedAt.at(-1) ?? 0;
    const end = Date.now() + 3000;
    while (!ledAt && Date.now() < end) await sleep(1);
    const relayed = relayAt.get(`CARD:${5_000_000 + i}`);
    if (relayed !== undefined) toRelay.push(relayed - presented);
    if (ledAt && decidedAt) toLed.push(ledAt - decidedAt);
    // Let the buzzer command go too, then a random phase against the 50 ms poll cycle, as cards arrive in life.
    await sleep(bus.wireMs(60) + Math.random() * 50);
  }
  if (process.env.BENCH_OSDP_DEBUG) console.log(bus.stats, reader.status().detail);
  await reader.stop();
  await sim.stop();
  socat.kill('SIGTERM');
  store.close();
  const n = Math.min(toRelay.length, toLed.length);
  const relayMs = summary(toRelay);
  const ledMs = summary(toLed);
  return {
    baud,
    cards: n,
    relayP50Ms: ms(relayMs.p50),
    relayP99Ms: ms(relayMs.p99),
    feedbackP50Ms: ms(ledMs.p50),
    feedbackP99Ms: ms(ledMs.p99),
  };
}

/** Runs the OSDP path at 9600 and 115200 baud and prints its lines; [] when socat is missing or BENCH_OSDP=0. */
export async function benchOsdp(log: (s: string) => void): Promise<OsdpFigures[]> {
  if (process.env.BENCH_OSDP === '0') return [];
  if (!hasSocat) {
    log('osdp: skipped (socat not installed)');
    return [];
  }
  const cards = Number(process.env.BENCH_OSDP_CARDS ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-osdp-'));
  const out: OsdpFigures[] = [];
  try {
    for (const baud of [9600, 115200]) {
      const f = await onePath(baud, cards, dir);
      out.push(f);
      // Under Secure Channel a POLL is 14 bytes, a card reply (RAW, 64 bits, encrypted) 30, an LED command 30.
      const wire = (bytes: number) => (bytes * 10 * 1000) / baud;
      log(
        `osdp ${String(baud).padStart(6)} baud, Secure Channel (card presented → relay command): p50 ${f.relayP50Ms} ms  p99 ${f.relayP99Ms} ms  (${f.cards} cards; poll every 50 ms; POLL + card reply on the wire ${ms(wire(14 + 30))} ms)`,
      );
      log(
        `osdp ${String(baud).padStart(6)} baud, feedback (decision → LED command at the PD):      p50 ${f.feedbackP50Ms} ms  p99 ${f.feedbackP99Ms} ms  (the LED command's bytes on the wire ${ms(wire(30))} ms)`,
      );
    }
    const slow = out[0];
    const fast = out[1];
    if (slow && fast) {
      log(
        `osdp ratio 9600/115200: card → relay p50 ${(slow.relayP50Ms / Math.max(0.1, fast.relayP50Ms)).toFixed(2)}×, feedback p50 ${(slow.feedbackP50Ms / Math.max(0.1, fast.feedbackP50Ms)).toFixed(2)}× (the poll interval, not the wire, dominates at 115200)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchOsdp((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
