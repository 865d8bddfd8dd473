/**
 * The scan gap of an update, measured end to end (issue 16 item 4): an
 * installed release under the supervisor reads a real pty (socat) that gets
 * a distinct card every `intervalMs`; the mini cloud sends a signed update
 * command; the agent downloads, verifies, installs, switches and exits; the
 * supervisor starts the new release, which passes its health window. Every
 * card fed must come back as a decision (the events reach the cloud), and
 * the longest scan-written → decision time is the gap. Shared by
 * update-restart.pty.test.ts and bench/update-gap.ts.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type PassRecord, signingKey, uuidv7 } from '@gatehouse/protocol';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore } from '../src/store/index.js';
import { readState } from '../src/update/state.js';
import { makeFixture } from './fixtures.js';
import { PtyPair, sleep, until, writeConfig } from './harness.js';
import { agentBundle, buildRelease, installFirst, linkNodeModules, releaseKey, serveReleases } from './release-fixture.js';
import { Supervisor } from './supervisor.js';
import { tempDir } from './tmp.js';
import { startMiniCloud } from './update-cloud.js';

export interface GapResult {
  scans: number;
  decided: number;
  /** Cards written while no agent had the port open: the port's open flushes them (a scanner's line is not read). */
  notRead: number;
  /** Cards not decided although written while an agent was reading (must be 0). */
  lostWhileReading: number;
  /** The scan gap: the old agent starting its restart (readers stop) → the new agent's port open, by their logs. */
  readerDownMs: number;
  /** First to last card not decided, plus one interval: the same gap seen from the scanner's side. */
  unreadSpanMs: number;
  /** Relay pulses (allowed scans) whose event never reached the cloud (must be 0: the outbox survives). */
  pulsesWithoutEvent: number;
  /** The longest interval between two consecutive decisions while cards were fed every intervalMs. */
  maxDecisionIntervalMs: number;
  /** Longest time from a card written to the pty to its decision (occurredAt, on the cloud clock estimate). */
  maxScanToDecisionMs: number;
  /** Median of the same: the normal decision latency, for comparison. */
  p50ScanToDecisionMs: number;
  /** Old agent's exit to the new agent's local API listening. */
  restartMs: number;
  /** The first start of the old release: spawn to listening (the same work without an update). */
  coldStartMs: number;
  /** Signed command sent → status `done` from the new release. */
  commandToDoneMs: number;
  /** Command sent → the old agent's exit (download, verify, install, switch). */
  commandToSwitchMs: number;
  releaseBytes: number;
  healthWindowS: number;
  updateStates: string[];
  /** Every pause between decisions longer than 4 feed intervals (ms after the command), with the cards unread in it. */
  pauses: { atMs: number; ms: number; undecided: number }[];
  undecidedSentAtMs: number[];
  /** Starts of the new release boot-guard counted (1: the agent itself never counts one). */
  trialBoots: number;
}

export async function runUpdateGap(
  o: { intervalMs?: number; healthWindowS?: number; payloadBytes?: number; log?: (s: string) => void } = {},
): Promise<GapResult> {
  const intervalMs = o.intervalMs ?? 30;
  const healthWindowS = o.healthWindowS ?? 10;
  const t = tempDir('gh-update-gap-');
  const fx = makeFixture();
  const DEV = 'dev-gap';
  const AUTH = { username: DEV, password: 'dev-pw' };
  const key = releaseKey();
  const installRoot = join(t.dir, 'opt');
  const dataDir = join(t.dir, 'data');
  const entryCode = await agentBundle();
  linkNodeModules(t.dir);
  const old = buildRelease(t.dir, { version: '0.1.0', serial: 5, key, entryCode });
  const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key, entryCode, payloadBytes: o.payloadBytes ?? 4 * 1024 * 1024 });
  installFirst(installRoot, old);
  const pty = new PtyPair(join(t.dir, 'scanner'), join(t.dir, 'wire'));
  const day = 86_400_000;
  const cards: PassRecord[] = Array.from({ length: 3000 }, (_, i) => ({
    id: uuidv7(),
    orgId: 'org-1',
    ruleId: fx.rule.id,
    type: 'multi',
    status: 'active',
    validFrom: Date.now() - day,
    validTo: Date.now() + day,
    maxUses: null,
    totpSecret: null,
    card: { format: 'raw', number: String(500_000 + i) },
    escort: false,
  }));
  const store = new EdgeStore(join(dataDir, 'edge.db'));
  const seed = fx.seed();
  applySeed(store, parseSeed({ ...seed, passes: [...seed.passes, ...cards] }));
  store.close();
  const cloud = await startMiniCloud({ deviceId: DEV, orgId: 'org-1', key: signingKey(fx.key.privateKey) });
  const srv = await serveReleases([old, next], AUTH);
  await pty.start();
  const config = writeConfig(t.dir, {
    dataDir,
    localPort: 0,
    debounceMs: 300,
    logLevel: 'info',
    readers: [{ type: 'serial-qr', name: 'qr', path: pty.a, baudRate: 9600, direction: 'in', lineEnding: 'CR' }],
    relay: { type: 'simulated', pulseMs: 20, logFile: join(t.dir, 'relay.log') },
    deviceId: DEV,
    orgId: 'org-1',
    gateId: 'gate-1',
    orgPublicKey: fx.key.publicKey,
    mqtt: { url: cloud.url, ...AUTH },
    update: { installRoot, bootLimit: 3 },
  });
  const sup = new Supervisor({ installRoot, configFile: config, dataDir, restartDelayMs: 100, nodeArgs: [] });
  const sent = new Map<string, number>();
  let feeding = true;
  try {
    sup.start();
    await sup.waitFor((s) => s.listeningAt !== undefined, 'the old release listening', 30_000);
    await until(() => cloud.statuses.some((s) => s.status.state === 'online'), 'the old release online', 15_000);
    const fd = openSync(pty.b, 'w');
    let i = 0;
    const feeder = (async () => {
      while (feeding && i < cards.length) {
        const c = cards[i++];
        if (!c) break;
        writeSync(fd, `CARD:${c.card?.number}\r`);
        sent.set(c.id, Date.now());
        await sleep(intervalMs);
      }
    })();
    await sleep(1000);
    const commandAt = Date.now();
    const jobId = uuidv7();
    await cloud.sendUpdate({ jobId, url: srv.url(next), version: next.version, serial: next.serial, allowDowngrade: false, healthWindowS });
    const newStart = await sup.waitFor(
      (s) => s.release === next.version && s.listeningAt !== undefined,
      'the new release listening',
      60_000,
    );
    const oldStart = sup.starts.find((s) => s.release === old.version);
    o.log?.(
      `switched: old exit ${oldStart?.exit?.code}, new listening after ${(newStart.listeningAt ?? 0) - (oldStart?.exit?.at ?? 0)} ms`,
    );
    await sleep(2000);
    feeding = false;
    await feeder;
    closeSync(fd);
    const done = await until(
      () =>
        cloud.statuses.find((s) => s.status.update?.jobId === jobId && ['done', 'rolled_back', 'failed'].includes(s.status.update.state)),
      'the update finished',
      (healthWindowS + 30) * 1000,
    );
    // Everything fed has been decided and reached the cloud.
    await until(
      () => cloud.events.filter((e) => e.event.passId && sent.has(e.event.passId)).length >= sent.size,
      'every scan decided',
      20_000,
    ).catch(() => null);
    const decisions = cloud.events
      .filter((e) => e.event.type === 'attempt' && e.event.passId && sent.has(e.event.passId))
      .map((e) => ({ passId: e.event.passId as string, at: e.event.occurredAt }))
      .sort((a, b) => a.at - b.at);
    const latencies = decisions.map((d) => d.at - (sent.get(d.passId) ?? d.at)).sort((a, b) => a - b);
    let maxInterval = 0;
    for (let k = 1; k < decisions.length; k++) maxInterval = Math.max(maxInterval, (decisions[k]?.at ?? 0) - (decisions[k - 1]?.at ?? 0));
    const decidedIds = new Set(decisions.map((d) => d.passId));
    const pauses: { atMs: number; ms: number; undecided: number }[] = [];
    for (let k = 1; k < decisions.length; k++) {
      const from = decisions[k - 1]?.at ?? 0;
      const to = decisions[k]?.at ?? 0;
      if (to - from < 4 * intervalMs) continue;
      const undecided = [...sent].filter(([id, at]) => !decidedIds.has(id) && at >= from - 50 && at <= to + 50).length;
      pauses.push({ atMs: from - commandAt, ms: to - from, undecided });
    }
    // The window in which no agent reads the port: from the old agent starting its restart (relay off, readers
    // stopped) to the new one's port open, both by their own log clocks.
    const logTime = (n: number, msg: string) => {
      const line = sup.logs.find((l) => l.startsWith(`[${n}] `) && l.includes(`"msg":"${msg}"`));
      return line ? (JSON.parse(line.slice(line.indexOf('{'))) as { time: number }).time : 0;
    };
    const downFrom = logTime(oldStart?.n ?? 1, 'update: restarting on the switched release');
    const downTo = logTime(newStart.n, 'serial reader open');
    const unread = [...sent].filter(([id]) => !decidedIds.has(id));
    const inWindow = unread.filter(([, at]) => at >= downFrom - 100 && at <= downTo + 300).length;
    const eventIds = new Set(cloud.events.map((e) => e.event.id));
    const pulses = readFileSync(join(t.dir, 'relay.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    const states: string[] = [];
    for (const s of cloud.statuses) {
      const st = s.status.update?.jobId === jobId ? s.status.update.state : null;
      if (st && states[states.length - 1] !== st) states.push(st);
    }
    return {
      scans: sent.size,
      decided: decidedIds.size,
      notRead: inWindow,
      lostWhileReading: unread.length - inWindow,
      readerDownMs: downTo - downFrom,
      unreadSpanMs: unread.length ? Math.max(...unread.map(([, at]) => at)) - Math.min(...unread.map(([, at]) => at)) + intervalMs : 0,
      pulsesWithoutEvent: pulses.filter((id) => !eventIds.has(id)).length,
      maxScanToDecisionMs: latencies[latencies.length - 1] ?? 0,
      p50ScanToDecisionMs: latencies[Math.floor(latencies.length / 2)] ?? 0,
      maxDecisionIntervalMs: maxInterval,
      restartMs: (newStart.listeningAt ?? 0) - (oldStart?.exit?.at ?? 0),
      coldStartMs: (oldStart?.listeningAt ?? 0) - (oldStart?.at ?? 0),
      commandToDoneMs: done.at - commandAt,
      commandToSwitchMs: (oldStart?.exit?.at ?? 0) - commandAt,
      releaseBytes: next.manifest.files.reduce((n, f) => n + f.size, 0),
      healthWindowS,
      updateStates: [...states, done.status.update?.detail ?? ''],
      trialBoots: readState(dataDir)?.boots ?? -1,
      pauses,
      undecidedSentAtMs: [...sent].filter(([id]) => !decidedIds.has(id)).map(([, at]) => at - commandAt),
    };
  } catch (e) {
    o.log?.(
      sup.logs
        .filter((l) => /update|stderr|error|warn/i.test(l))
        .slice(-60)
        .join('\n'),
    );
    throw e;
  } finally {
    feeding = false;
    await sup.stop();
    if (process.env.UPDATE_GAP_LOGS) writeFileSync(process.env.UPDATE_GAP_LOGS, sup.logs.join('\n'));
    await pty.stop();
    await srv.close();
    await cloud.close();
    t.cleanup();
  }
}
