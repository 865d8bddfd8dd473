/**
 * npm run bench:edge — the gate's scan path on a store of 2,000,000 passes
 * (the largest commercial controllers hold ~2M cardholders).
 *
 * Real path, per scan: credential bytes → Gate.handle → parseCredential →
 * prepared lookup (by pass id, or by card key) → decide() (TOTP check or
 * Ed25519 verify) → one transaction (outbox INSERT + pass state) → relay
 * command (simulated relay) → metrics.
 * Floor, per scan of the same list, in the same run and the same database:
 * one bare prepared point lookup + the bare crypto check of its kind (otplib
 * TOTP verify on pre-decoded secret bytes, or node:crypto Ed25519 verify on
 * pre-built bytes; none for cards) + one bare prepared outbox INSERT.
 * Blocks of 1,000 scans alternate which of the two runs first, so neither
 * gets the other's warm pages systematically.
 *
 * Also: synchronous=FULL vs NORMAL on the same path, start-up quick_check
 * time, the daemon's RSS (the real daemon, started on this store, after
 * scans through its HTTP API) and the wire time of one QR line at 9600 baud.
 * Then the OSDP path (bench/osdp.ts): card at the reader → relay command, and decision → LED at the reader,
 * over a pty at 9600 and 115200 baud with Secure Channel on.
 * Env: BENCH_PASSES, BENCH_SCANS to shrink it; BENCH_OSDP_CARDS, BENCH_OSDP=0 for the OSDP part.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySeed, EdgeMetrics, EdgeStore, Gate, parseSeed, SimulatedRelay } from '@gatehouse/edge-agent';
import {
  base32Decode,
  base32Encode,
  encodeStaticQr,
  encodeWiegand,
  generateKeyPair,
  type PassRecord,
  signingKey,
  totpCode,
  uuidv7,
} from '@gatehouse/protocol';
import { crypto as nodeCrypto } from '@otplib/plugin-crypto-node';
import { verifySync } from '@otplib/totp';
import { oneGateSeed, percentile } from './util.js';

const PASSES = Number(process.env.BENCH_PASSES ?? 2_000_000);
const SCANS = Number(process.env.BENCH_SCANS ?? 100_000);
const BLOCK = 1000;
const NOW = Date.UTC(2026, 5, 3, 9, 0); // a Wednesday, 11:00 in Berlin
const DAY = 86_400_000;

process.stdout.write(
  `machine load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other work on the box inflates the tails)\n`,
);
const dir = mkdtempSync(join(tmpdir(), 'gh-bench-edge-'));
const dbFile = join(dir, 'edge.db');
const log = (s: string) => process.stdout.write(`${s}\n`);
const us = (x: number) => Math.round(x * 10) / 10;

const passId = (i: number) => `0190f000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
const secretOf = (i: number) => {
  const b = Buffer.alloc(20, 0x5a);
  b.writeUInt32BE(i, 0);
  b.writeUInt32BE((i ^ 0x9e3779b9) >>> 0, 8);
  return base32Encode(b);
};
const CARD_EVERY = 5;
const cardNumberOf = (i: number) => 1_000_000_000 + i;

// ---------- build ----------
const key = generateKeyPair();
const signer = signingKey(key.privateKey);
let t = performance.now();
const store = new EdgeStore(dbFile);
applySeed(
  store,
  parseSeed(
    oneGateSeed({
      timezone: 'Europe/Berlin',
      rule: { weekdays: [1, 2, 3, 4, 5], timeWindows: [{ from: '07:00', to: '21:00' }] },
      orgPublicKey: key.publicKey,
    }),
  ),
);
// A bigger page cache only while building: fewer pages spilled to the WAL mid-transaction.
store.db.pragma('cache_size = -262144');
store.db.transaction(() => {
  for (let i = 0; i < PASSES; i++) {
    const p: PassRecord = {
      id: passId(i),
      orgId: 'org-1',
      ruleId: 'rule-1',
      type: 'multi',
      status: i % 97 === 0 ? 'revoked' : 'active',
      validFrom: NOW - DAY,
      validTo: NOW + 30 * DAY,
      maxUses: null,
      totpSecret: secretOf(i),
      card: i % CARD_EVERY === 0 ? { format: 'raw', number: String(cardNumberOf(i)) } : null,
      escort: false,
    };
    store.cache.upsertPass(p);
  }
})();
store.checkpoint();
store.db.pragma('cache_size = -2000');
const buildMs = performance.now() - t;
const dbMb = statSync(dbFile).size / 2 ** 20;
log(
  `store: ${PASSES.toLocaleString()} passes built in ${(buildMs / 1000).toFixed(1)} s (${Math.round(PASSES / (buildMs / 1000)).toLocaleString()} rows/s), ${dbMb.toFixed(0)} MB`,
);

// ---------- scans ----------
type Kind = 'dynamic' | 'static' | 'card';
interface Scan {
  kind: Kind;
  bytes: Buffer;
  lookupKey: string;
  secretBytes?: Uint8Array;
  code?: string;
  signed?: Buffer;
  sig?: Buffer;
}
const STATIC_TAG = Buffer.from('gatehouse/static-qr/v1\n');
const pubKey = createPublicKey({
  key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey, 'base64')]),
  format: 'der',
  type: 'spki',
});
// mulberry32: a seeded PRNG so every run benches the same scan list.
let seed = 12345;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const used = new Set<number>();
const pick = (filter: (i: number) => boolean = () => true) => {
  for (;;) {
    const i = Math.floor(rand() * PASSES);
    if (!used.has(i) && filter(i)) {
      used.add(i);
      return i;
    }
  }
};
t = performance.now();
const scans: Scan[] = [];
const mix = { dynamic_ok: 0, dynamic_bad_code: 0, static_ok: 0, static_forged: 0, card_ok: 0, card_unknown: 0, unknown_pass: 0 };
for (let n = 0; n < SCANS; n++) {
  const r = rand();
  if (r < 0.4 || (r >= 0.9 && r < 0.95)) {
    // dynamic: valid code (or a wrong one, or a pass id not in the store)
    const unknown = r >= 0.9;
    const i = unknown ? PASSES + n : pick();
    const secret = secretOf(i);
    const bad = !unknown && r > 0.36;
    const code = bad ? '00000000' : totpCode(secret, NOW);
    const idB32 = base32Encode(Buffer.from(passId(i).replaceAll('-', ''), 'hex'));
    scans.push({
      kind: 'dynamic',
      bytes: Buffer.from(`GHD1:${idB32}:${code}`),
      lookupKey: passId(i),
      secretBytes: base32Decode(secret)!,
      code,
    });
    if (unknown) mix.unknown_pass++;
    else if (bad) mix.dynamic_bad_code++;
    else mix.dynamic_ok++;
  } else if (r < 0.65) {
    const i = pick();
    const forged = r > 0.62;
    let text = encodeStaticQr({ passId: passId(i), validFrom: NOW - DAY, validTo: NOW + DAY }, signer);
    if (forged) text = `${text.slice(0, -10)}${text.slice(-10) === 'AAAAAAAAAA' ? 'BBBBBBBBBB' : 'AAAAAAAAAA'}`;
    const raw = Buffer.from(base32Decode(text.slice(5))!);
    scans.push({
      kind: 'static',
      bytes: Buffer.from(text),
      lookupKey: passId(i),
      signed: Buffer.concat([STATIC_TAG, raw.subarray(0, 29)]),
      sig: raw.subarray(29),
    });
    if (forged) mix.static_forged++;
    else mix.static_ok++;
  } else {
    const unknown = r >= 0.95;
    if (unknown) {
      scans.push({ kind: 'card', bytes: Buffer.from(`CARD:${7_000_000_000 + n}`), lookupKey: `raw:${7_000_000_000 + n}` });
      mix.card_unknown++;
    } else {
      const i = pick((x) => x % CARD_EVERY === 0);
      scans.push({ kind: 'card', bytes: Buffer.from(`CARD:${cardNumberOf(i)}`), lookupKey: `raw:${cardNumberOf(i)}` });
      mix.card_ok++;
    }
  }
}
// Two Wiegand frames to show the path, not to change the mix.
void encodeWiegand;
log(`scans: ${SCANS.toLocaleString()} prepared in ${((performance.now() - t) / 1000).toFixed(1)} s — ${JSON.stringify(mix)}`);

// As in the daemon: checkpoints (and their fsync) on a worker thread, every 5 s.
store.startBackgroundCheckpoints(5000);

// ---------- floor: the work no implementation can skip ----------
store.db.exec(
  'CREATE TABLE IF NOT EXISTS floor_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, acked INTEGER NOT NULL DEFAULT 0)',
);
const lookupById = store.db.prepare('SELECT * FROM passes WHERE id = ?');
const lookupByCard = store.db.prepare('SELECT * FROM passes WHERE card_key = ?');
const floorInsert = store.db.prepare('INSERT INTO floor_outbox (id, event) VALUES (?, ?)');
const floorEvent = JSON.stringify({
  type: 'attempt',
  gateId: 'gate-1',
  passId: passId(1),
  credentialKind: 'dynamic',
  direction: 'in',
  allow: true,
  reason: 'ok',
  occurredAt: NOW,
  reader: 'bench',
});
const floorIds = scans.map(() => uuidv7(NOW));
const floorUs = new Float64Array(SCANS);
const lookupUs = new Float64Array(SCANS);
let sink = 0;
// CPU time per scan (getrusage, all threads; the checkpointer is idle nearly always): what a scan costs when
// the scheduler does not hand the core to another process mid-scan, as it often does on this shared box.
const floorCpu = new Float64Array(SCANS);
const realCpu = new Float64Array(SCANS);
const cpuOf = (c: NodeJS.CpuUsage) => c.user + c.system;
function floorScan(n: number): void {
  const s = scans[n]!;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const row = s.kind === 'card' ? lookupByCard.get(s.lookupKey) : lookupById.get(s.lookupKey);
  const t1 = process.hrtime.bigint();
  if (s.kind === 'dynamic') {
    const r = verifySync({
      secret: s.secretBytes!,
      token: s.code!,
      crypto: nodeCrypto,
      digits: 8,
      period: 30,
      epoch: Math.floor(NOW / 1000),
      epochTolerance: 30,
    });
    if (r.valid) sink++;
  } else if (s.kind === 'static') {
    if (verify(null, s.signed!, pubKey, s.sig!)) sink++;
  }
  floorInsert.run(floorIds[n]!, floorEvent);
  const t2 = process.hrtime.bigint();
  floorCpu[n] = cpuOf(process.cpuUsage(c0));
  if (row) sink++;
  floorUs[n] = Number(t2 - t0) / 1000;
  lookupUs[n] = Number(t1 - t0) / 1000;
}

// ---------- real path ----------
const relay = new SimulatedRelay(3000);
const metrics = new EdgeMetrics(
  { outboxDepth: () => store.outbox.depth, cacheSeq: () => store.seq, hardware: () => [] },
  { defaultMetrics: false },
);
const gate = new Gate({ store, relay, debounceMs: 1500, now: () => NOW, metrics });
const realUs = new Float64Array(SCANS);
const reasons: Record<string, number> = {};
function realScan(n: number, into: Float64Array = realUs): void {
  const s = scans[n]!;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = gate.handle({ reader: 'bench', direction: 'in', data: s.bytes, receivedAt: performance.now() });
  into[n] = Number(process.hrtime.bigint() - t0) / 1000;
  if (into === realUs) realCpu[n] = cpuOf(process.cpuUsage(c0));
  const reason = out.decision?.reason ?? 'debounced';
  reasons[reason] = (reasons[reason] ?? 0) + 1;
}

// Warm-up on scans outside the measured list would need more passes; a short warm-up of JIT on the floor is enough.
for (let n = 0; n < Math.min(200, SCANS); n++) floorScan(n);
store.db.exec('DELETE FROM floor_outbox');
t = performance.now();
for (let b = 0; b * BLOCK < SCANS; b++) {
  const from = b * BLOCK;
  const to = Math.min(SCANS, from + BLOCK);
  if (b % 2 === 0) {
    for (let n = from; n < to; n++) floorScan(n);
    for (let n = from; n < to; n++) realScan(n);
  } else {
    for (let n = from; n < to; n++) realScan(n);
    for (let n = from; n < to; n++) floorScan(n);
  }
}
const loopS = (performance.now() - t) / 1000;
const rs = realUs.slice().sort();
const fs = floorUs.slice().sort();
const ls = lookupUs.slice().sort();
log(
  `real path  (credential bytes → relay command): p50 ${us(percentile(rs, 50))} µs  p99 ${us(percentile(rs, 99))} µs  max ${us(rs[rs.length - 1] ?? 0)} µs`,
);
log(
  `floor      (lookup + crypto + outbox INSERT):  p50 ${us(percentile(fs, 50))} µs  p99 ${us(percentile(fs, 99))} µs  max ${us(fs[fs.length - 1] ?? 0)} µs`,
);
log(`raw lookup (prepared point SELECT):            p50 ${us(percentile(ls, 50))} µs  p99 ${us(percentile(ls, 99))} µs`);
const rc = realCpu.slice().sort();
const fc = floorCpu.slice().sort();
log(
  `CPU time per scan (no preemption): real p50 ${us(percentile(rc, 50))} µs p99 ${us(percentile(rc, 99))} µs | floor p50 ${us(percentile(fc, 50))} µs p99 ${us(percentile(fc, 99))} µs | p99 ratio ${(percentile(rc, 99) / percentile(fc, 99)).toFixed(2)}×`,
);
const over1ms = (a: Float64Array) => ((a.filter((x) => x > 1000).length / a.length) * 100).toFixed(2);
log(
  `tail: p99.9 real ${us(percentile(rs, 99.9))} µs, floor ${us(percentile(fs, 99.9))} µs; scans over 1 ms: real ${over1ms(rs)} %, floor ${over1ms(fs)} %`,
);
log(
  `ratio real/floor: p50 ${(percentile(rs, 50) / percentile(fs, 50)).toFixed(2)}×  p99 ${(percentile(rs, 99) / percentile(fs, 99)).toFixed(2)}×  (target p99 ≤ 2×, p99 ≤ 1000 µs)`,
);
log(
  `decisions: ${JSON.stringify(reasons)}; relay pulses ${relay.pulses.length >= 1000 ? '≥1000' : relay.pulses.length}; both loops ${loopS.toFixed(1)} s`,
);
if (sink < 0) log('');

// ---------- synchronous=FULL vs NORMAL on the same path ----------
const SYNC_N = Math.min(3000, SCANS);
function syncRun(mode: 'NORMAL' | 'FULL'): Float64Array {
  store.db.pragma(`synchronous = ${mode}`);
  store.db.exec('DELETE FROM pass_state');
  const arr = new Float64Array(SYNC_N);
  for (let n = 0; n < SYNC_N; n++) realScan(n, arr);
  return arr.sort();
}
// Scans are replayed, so decisions now differ (replay); the write per scan is the same.
const normal = syncRun('NORMAL');
const full = syncRun('FULL');
store.db.pragma('synchronous = NORMAL');
await store.stopBackgroundCheckpoints();
log(
  `durability: synchronous=NORMAL p50 ${us(percentile(normal, 50))} µs p99 ${us(percentile(normal, 99))} µs | FULL p50 ${us(percentile(full, 50))} µs p99 ${us(percentile(full, 99))} µs (${(percentile(full, 50) / percentile(normal, 50)).toFixed(1)}× at p50) — FULL fsyncs the WAL per commit; NORMAL at each checkpoint (every 5 s)`,
);
store.close();

// ---------- start-up check on this file ----------
t = performance.now();
new EdgeStore(dbFile).close();
const openMs = performance.now() - t;
log(`open + quick_check + migrate on ${dbMb.toFixed(0)} MB: ${Math.round(openMs)} ms (daemon start-up cost)`);

// ---------- the daemon's RSS ----------
async function daemonRss(): Promise<number> {
  const root = new URL('../', import.meta.url).pathname;
  const built = spawnSync('npx', ['tsc', '-b', 'edge-agent'], { cwd: root, encoding: 'utf8' }).status === 0;
  const args =
    built && existsSync(join(root, 'edge-agent/dist/cli.js'))
      ? [join(root, 'edge-agent/dist/cli.js')]
      : ['--conditions=source', '--import', 'tsx', join(root, 'edge-agent/src/cli.ts')];
  const cfg = join(dir, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      dataDir: dir,
      localPort: 0,
      logLevel: 'info',
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'simulated' },
    }),
  );
  const proc = spawn(process.execPath, [...args, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`daemon exited ${c}: ${out}`)));
  });
  try {
    const N = Math.min(5000, SCANS);
    const token = readFileSync(join(dir, 'local-token'), 'utf8').trim(); // the local API's token (edge-agent/src/local-token.ts)
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    for (let n = 0; n < N; n++) {
      await fetch(`http://127.0.0.1:${port}/scan`, { method: 'POST', headers, body: JSON.stringify({ text: scans[n]!.bytes.toString() }) });
    }
    await fetch(`http://127.0.0.1:${port}/metrics`);
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    log(
      `daemon RSS after ${N.toLocaleString()} scans via its HTTP API (${built ? 'dist' : 'tsx'}): ${(kb / 1024).toFixed(0)} MB (target ≤ 150 MB)`,
    );
    return kb / 1024;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}
const rssMb = await daemonRss();

// ---------- the wire, for scale ----------
const lineMs = (60 * 10 * 1000) / 9600; // 8N1: 10 bits per character
log(
  `for scale: one 60-character QR line on a 9600-baud wire takes ${lineMs.toFixed(1)} ms (${Math.round((lineMs * 1000) / percentile(rs, 99))}× the real path's p99)`,
);

// ---------- the OSDP path: card at the reader → relay, and the reader's feedback (bench/osdp.ts) ----------
async function osdpPath(): Promise<
  { baud: number; relayP50Ms: number; relayP99Ms: number; feedbackP50Ms: number; feedbackP99Ms: number }[]
> {
  if (process.env.BENCH_OSDP === '0') return [];
  const script = new URL('./osdp.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = (run.stdout ?? '').trim().split('\n');
  const json = lines.pop() ?? '[]';
  for (const l of lines) log(l);
  try {
    return JSON.parse(json) as Awaited<ReturnType<typeof osdpPath>>;
  } catch {
    log(`osdp: failed (${json})`);
    return [];
  }
}
const osdp = await osdpPath();

rmSync(dir, { recursive: true, force: true });
log(
  JSON.stringify({
    bench: 'edge',
    passes: PASSES,
    scans: SCANS,
    p50_us: us(percentile(rs, 50)),
    p99_us: us(percentile(rs, 99)),
    max_us: us(rs[rs.length - 1] ?? 0),
    floor_p99_us: us(percentile(fs, 99)),
    raw_lookup_p99_us: us(percentile(ls, 99)),
    rss_mb: Math.round(rssMb),
    osdp: osdp.map((o) => ({
      baud: o.baud,
      relay_p50_ms: o.relayP50Ms,
      relay_p99_ms: o.relayP99Ms,
      feedback_p50_ms: o.feedbackP50Ms,
      feedback_p99_ms: o.feedbackP99Ms,
    })),
  }),
);
