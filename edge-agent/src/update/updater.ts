/**
 * The controller side of an update job (issue 16): download → verify →
 * install → switch → restart → health window → done, or failed / rolled
 * back. Every phase is written to the state file before it is acted on and
 * published in the status, so a restart anywhere leaves a state the next
 * start understands.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SIGNED_RELEASE_BYTES, type ReleaseFile, releaseFileUrl } from '@gatehouse/protocol';
import type { Logger } from 'pino';
import { download, fetchJson } from './download.js';
import { type HealthSample, HealthWatch } from './health.js';
import { installRelease, pruneReleases, type RunningRelease, runningRelease, switchTo } from './install.js';
import {
  EXIT_RESTART_FOR_UPDATE,
  logLine,
  MAX_DETAIL,
  onTrial,
  readState,
  rollBackLinks,
  stateDir,
  type UpdatePhase,
  type UpdateState,
  writeState,
} from './state.js';
import { checkManifest, trustedReleaseKeys, verifyFiles } from './verify.js';

export const DEFAULT_INSTALL_ROOT = '/opt/gatehouse-edge';

/** The `update` field of a signed `update` command. */
export interface UpdateJob {
  jobId: string;
  url: string;
  version: string;
  serial: number;
  allowDowngrade: boolean;
  healthWindowS: number;
}

/** The status fields (protocol Status.release / Status.update). */
export interface UpdateStatusFields {
  release?: { version: string; serial: number };
  update?: { jobId: string; state: UpdatePhase; version: string; detail?: string; log: string[]; ts: number };
}

export interface UpdaterOptions {
  dataDir: string;
  installRoot?: string | undefined;
  releaseKeys?: readonly string[] | undefined;
  bootLimit?: number | undefined;
  /** HTTP Basic for the cloud's release files: the device's broker credentials. */
  auth?: { username: string; password: string } | undefined;
  ca?: Buffer | undefined;
  log: Logger;
  now?: () => number;
  /** Publishes a status now (each state change). */
  publish: () => void;
  /** A health sample of the running agent, each second of a trial. */
  sample: () => Omit<HealthSample, 'at'>;
  /** De-energise, stop, and exit with the given code so the supervisor starts `current`. */
  restart: (code: number) => void;
  /** The entry script, to find the running release (argv[1] by default). */
  entry?: string | undefined;
  /** Download tuning (tests). */
  download?: { attempts?: number; backoffMs?: number; idleTimeoutMs?: number };
}

export class Updater {
  readonly installRoot: string;
  readonly running: RunningRelease | null;
  #state: UpdateState | null;
  #busy = false;
  #trial: { watch: HealthWatch; timer: NodeJS.Timeout } | null = null;
  readonly #o: UpdaterOptions;
  readonly #now: () => number;

  constructor(o: UpdaterOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.installRoot = o.installRoot ?? DEFAULT_INSTALL_ROOT;
    this.running = runningRelease(this.installRoot, o.entry);
    this.#state = readState(o.dataDir);
  }

  get state(): UpdateState | null {
    return this.#state;
  }

  statusFields(): UpdateStatusFields {
    const s = this.#state;
    return {
      ...(this.running ? { release: { version: this.running.version, serial: this.running.serial } } : {}),
      ...(s
        ? {
            update: {
              jobId: s.jobId,
              state: s.phase,
              version: s.version,
              ...(s.detail ? { detail: s.detail.slice(0, MAX_DETAIL) } : {}),
              log: s.log,
              ts: s.ts,
            },
          }
        : {}),
    };
  }

  #set(patch: Partial<UpdateState>, line?: string): void {
    const cur = this.#state;
    if (!cur) return;
    let next: UpdateState = { ...cur, ...patch, ts: this.#now() };
    if (line) next = logLine(next, line, this.#now());
    this.#state = next;
    try {
      writeState(this.#o.dataDir, next);
    } catch (e) {
      this.#o.log.error({ err: (e as Error).message }, 'update: state not written');
    }
    this.#o.log.info({ jobId: next.jobId, phase: next.phase, detail: next.detail }, `update: ${line ?? next.phase}`);
    this.#o.publish();
  }

  /** At start: takes up a trial (this is the new release), or closes a job a restart interrupted. */
  start(): void {
    const s = this.#state;
    if (!s) return;
    if (onTrial(s)) {
      if (this.running && s.to?.dir === this.running.dir) {
        const windowS = s.healthWindowS;
        this.#set(
          { phase: 'checking_health', deadline: this.#now() + windowS * 1000 },
          `started on ${this.running.version} (start ${s.boots || 1}), health window ${windowS} s`,
        );
        this.#startTrial(windowS);
      } else {
        // Not the release on trial (switched back by hand, or a guard without a state write): the trial is over.
        this.#set(
          { phase: 'rolled_back', detail: s.detail ?? `started on ${this.running?.version ?? 'a dev build'} instead of ${s.version}` },
          'the release on trial is not the one running',
        );
      }
    } else if (s.phase === 'downloading' || s.phase === 'verifying' || s.phase === 'installing') {
      this.#set({ phase: 'failed', detail: `interrupted by a restart while ${s.phase}` }, 'interrupted by a restart');
    }
  }

  stop(): void {
    if (this.#trial) clearInterval(this.#trial.timer);
    this.#trial = null;
  }

  #startTrial(windowS: number): void {
    const sample = (): HealthSample => ({ at: this.#now(), ...this.#o.sample() });
    const watch = new HealthWatch(sample());
    const deadline = this.#state?.deadline ?? this.#now() + windowS * 1000;
    const timer = setInterval(
      () => {
        try {
          watch.add(sample());
        } catch (e) {
          this.#o.log.error({ err: (e as Error).message }, 'update: health sample failed');
        }
        if (this.#now() >= deadline) this.#endTrial();
      },
      Math.min(1000, windowS * 100),
    );
    timer.unref();
    this.#trial = { watch, timer };
  }

  #endTrial(): void {
    const t = this.#trial;
    if (!t) return;
    clearInterval(t.timer);
    this.#trial = null;
    const v = t.watch.verdict();
    if (v.healthy) {
      this.#set({ phase: 'done', detail: `${this.#state?.version} healthy for the whole window` }, 'healthy: committed');
      pruneReleases(this.installRoot).catch((e: unknown) => this.#o.log.warn({ err: (e as Error).message }, 'update: prune failed'));
      return;
    }
    const s = this.#state;
    if (!s) return;
    const detail = `unhealthy: ${v.reasons.join('; ')}`;
    let back: string | null = null;
    try {
      back = rollBackLinks(this.installRoot, s);
    } catch (e) {
      this.#set({ phase: 'failed', detail: `${detail}; switching back failed: ${(e as Error).message}` });
      return;
    }
    if (!back) {
      this.#set({ phase: 'failed', detail: `${detail}; no previous release` });
      return;
    }
    this.#set({ phase: 'rolled_back', detail }, `${detail}; current -> ${back}, restarting`);
    this.#o.restart(EXIT_RESTART_FOR_UPDATE);
  }

  /** The signed `update` command (already verified and unexpired by the link). */
  async handle(job: UpdateJob): Promise<void> {
    const s = this.#state;
    if (s?.jobId === job.jobId && s.phase !== 'failed') {
      this.#o.publish(); // a repeat of a job in hand or finished: say where it is
      return;
    }
    if (this.#busy || onTrial(s)) {
      this.#o.log.warn({ jobId: job.jobId, busyWith: s?.jobId }, 'update: another job is in progress; ignored');
      return;
    }
    this.#busy = true;
    this.#state = {
      v: 1,
      jobId: job.jobId,
      version: job.version,
      serial: job.serial,
      phase: 'downloading',
      log: [],
      ts: this.#now(),
      healthWindowS: job.healthWindowS,
      installRoot: this.installRoot,
      boots: 0,
    };
    try {
      await this.#run(job);
    } catch (e) {
      this.#set({ phase: 'failed', detail: (e as Error).message.slice(0, MAX_DETAIL) }, `failed: ${(e as Error).message}`);
    } finally {
      this.#busy = false;
    }
  }

  async #run(job: UpdateJob): Promise<void> {
    const o = this.#o;
    const running = this.running;
    if (!running) {
      this.#set(
        {
          phase: 'failed',
          detail: `not running from an installed release under ${this.installRoot}/releases (a dev or npm install cannot update itself)`,
        },
        'refused: not an installed release',
      );
      return;
    }
    this.#set(
      { phase: 'downloading', from: { dir: running.dir, version: running.version, serial: running.serial } },
      `job for ${job.version} #${job.serial}`,
    );
    const started = this.#now();
    const signed = await fetchJson(job.url, { auth: o.auth, ca: o.ca, maxBytes: MAX_SIGNED_RELEASE_BYTES });
    this.#set({ phase: 'verifying' }, 'release manifest fetched; verifying its signature');
    const keys = trustedReleaseKeys(o.releaseKeys, running.path);
    const check = checkManifest(signed, keys, {
      now: this.#now(),
      installedSerial: running.serial,
      expect: { version: job.version, serial: job.serial, allowDowngrade: job.allowDowngrade },
    });
    if (!check.ok) {
      this.#set({ phase: 'failed', detail: `refused (${check.reason}): ${check.detail}` }, `manifest refused: ${check.reason}`);
      return;
    }
    const m = check.manifest;
    if (m.serial === running.serial && m.version === running.version) {
      this.#set({ phase: 'done', detail: `${m.version} is already running` }, 'already running this release');
      return;
    }
    const dir = m.version;
    if (dir === running.dir) {
      this.#set({ phase: 'failed', detail: `release ${m.version} has the running release's directory name` });
      return;
    }
    // Download: files resume from a partial copy of an earlier attempt of the same serial.
    const downloads = join(stateDir(o.dataDir), 'downloads', String(m.serial));
    await mkdir(downloads, { recursive: true, mode: 0o700 });
    const staged = (f: ReleaseFile) => join(downloads, ...f.path.split('/'));
    const total = check.files.reduce((n, f) => n + f.size, 0);
    this.#set({ phase: 'downloading' }, `downloading ${check.files.length} files, ${total} bytes`);
    let bytes = 0;
    for (const f of check.files) {
      await mkdir(join(staged(f), '..'), { recursive: true, mode: 0o700 });
      await download({
        url: releaseFileUrl(job.url, f.path, f.platform),
        dest: staged(f),
        size: f.size,
        auth: o.auth,
        ca: o.ca,
        ...o.download,
      });
      bytes += f.size;
    }
    const dlMs = Math.max(1, this.#now() - started);
    this.#set({ phase: 'verifying' }, `downloaded ${bytes} bytes in ${dlMs} ms; checking SHA-256 of every file`);
    const files = await verifyFiles(downloads, check.files, staged);
    if (!files.ok) {
      // A tampered file is not kept for a resume: the next attempt downloads it again.
      await rm(downloads, { recursive: true, force: true });
      this.#set(
        { phase: 'failed', detail: `refused (checksum): ${files.detail}` },
        'a file does not match the manifest; nothing installed',
      );
      return;
    }
    this.#set({ phase: 'installing' }, `installing into releases/${dir}`);
    await installRelease({ installRoot: this.installRoot, dir, running, files: check.files, staged, releaseJson: JSON.stringify(signed) });
    await rm(downloads, { recursive: true, force: true });
    // The state says "restarting" before the switch: a crash between the two leaves a trial boot-guard understands.
    this.#set({ phase: 'restarting', to: { dir }, boots: 0 }, `switching current to ${dir} and restarting`);
    switchTo(this.installRoot, running.dir, dir);
    this.#o.restart(EXIT_RESTART_FOR_UPDATE);
  }
}
