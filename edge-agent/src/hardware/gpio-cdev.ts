/**
 * GPIO through the character device (/dev/gpiochipN, Linux GPIO uAPI v2) by way of a small C helper,
 * native/gatehouse-gpio-cdev.c (built by `npm run build:gpio-cdev -w edge-agent` into dist/bin/).
 *
 * Why not a Node binding: node-libgpiod (the one maintained binding on npm) wraps libgpiod 1.x's line requests
 * but has no call that reads edge events, so it cannot give the kernel's timestamp of an edge, which is the reason
 * to leave sysfs. A helper process needs only cc and the kernel headers, and it keeps draining the kernel's event
 * queue while the agent's event loop is busy: each edge reaches the agent late, perhaps, but with the time it
 * happened (CLOCK_MONOTONIC, the clock of process.hrtime.bigint()), so a Wiegand frame is assembled from when its
 * bits came, not from when JavaScript got round to them.
 *
 * Lines are numbered by their offset on the chip (BCM 17 is offset 17 of the header's chip): no base to add.
 * Opening a line is checked synchronously (a short-lived `probe` run), so a busy or missing line throws as it
 * does with sysfs; the long-lived `serve` process then holds it. Input values are kept from the edge events
 * (both edges are always requested), so read() is synchronous and current as of the last event handled.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bit, type Edge, type GpioBackend, GpioError, type GpioLine, HEADER_CHIP, type WatchCallback } from './gpio.js';

export const CDEV_HELPER_NAME = 'gatehouse-gpio-cdev';
export const DEFAULT_DEV_DIR = '/dev';

export interface CdevChipInfo {
  /** gpiochip0 */
  name: string;
  /** /dev/gpiochip0 */
  path: string;
  label: string;
  lines: number;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the helper is: the configured path, else the one built beside this package (dist/bin), else in bin/
 * beside the running module (a bundled release), else an installed one (/usr/lib/gatehouse, PATH). null when
 * there is none: `auto` then stays on sysfs.
 */
export function findCdevHelper(explicit?: string): string | null {
  if (explicit) return executable(explicit) ? explicit : null;
  const candidates = [
    fileURLToPath(new URL(`../../dist/bin/${CDEV_HELPER_NAME}`, import.meta.url)),
    fileURLToPath(new URL(`./bin/${CDEV_HELPER_NAME}`, import.meta.url)),
    `/usr/lib/gatehouse/${CDEV_HELPER_NAME}`,
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, CDEV_HELPER_NAME)),
  ];
  return candidates.find(executable) ?? null;
}

export function listCdevDevices(devDir = DEFAULT_DEV_DIR): string[] {
  if (!existsSync(devDir)) return [];
  return readdirSync(devDir)
    .filter((n) => /^gpiochip\d+$/.test(n))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
    .map((n) => join(devDir, n));
}

/** A helper's `err ID ERRNO message` (or a probe's) as the GpioError a driver expects. */
export function cdevError(errno: string, message: string, where: string): GpioError {
  if (errno === 'EBUSY') return new GpioError('busy', `${where} is busy: claimed by another process or a kernel driver (check dtoverlays)`);
  if (errno === 'EACCES' || errno === 'EPERM')
    return new GpioError('permission', `${where}: permission denied (is the service user in the gpio group?)`);
  if (errno === 'ENOENT' || errno === 'ENODEV') return new GpioError('missing', `${where}: ${message}`);
  return new GpioError('invalid', `${where}: ${message}`);
}

function run(helper: string, args: string[]): string {
  const r = spawnSync(helper, args, { encoding: 'utf8', timeout: 5000 });
  if (r.error) throw new GpioError('missing', `${CDEV_HELPER_NAME} did not run: ${r.error.message}`);
  const out = r.stdout.trim();
  if (r.status !== 0) {
    const m = /^err \d+ (\S+) (.*)$/m.exec(out);
    throw m
      ? cdevError(m[1] ?? '', m[2] ?? '', args[1] ?? 'gpio')
      : new GpioError('invalid', `${CDEV_HELPER_NAME} ${args[0]}: ${out || r.stderr}`);
  }
  return out;
}

export function cdevChipInfo(helper: string, path: string): CdevChipInfo {
  const [tag, name, lines, ...label] = run(helper, ['info', path]).split('\t');
  if (tag !== 'chip' || !name) throw new GpioError('invalid', `${path}: unexpected chip info`);
  return { name, path, label: label.join('\t'), lines: Number(lines) };
}

/** The configured chip (name, path or label), else the header's chip, else the only one. */
export function pickCdevChip(chips: readonly CdevChipInfo[], want?: string): CdevChipInfo {
  if (chips.length === 0) throw new GpioError('no_chip', 'no GPIO character device (/dev/gpiochip*)');
  if (want) {
    const c = chips.find((x) => x.name === want || x.path === want || x.label === want);
    if (!c) throw new GpioError('no_chip', `no GPIO chip ${want} (chips: ${chips.map((x) => `${x.name} ${x.label}`).join(', ')})`);
    return c;
  }
  const chip = chips.find((c) => HEADER_CHIP.test(c.label)) ?? (chips.length === 1 ? chips[0] : undefined);
  if (!chip)
    throw new GpioError(
      'no_chip',
      `several GPIO chips and none is a Raspberry Pi header (${chips.map((x) => `${x.name} ${x.label}`).join(', ')}): set gpio.chip`,
    );
  return chip;
}

interface LineState {
  id: number;
  offset: number;
  output: boolean;
  edge: Edge;
  value: Bit;
  watchers: WatchCallback[];
  error: GpioError | null;
  lastSeq: number;
  closed: boolean;
  /** The command that requests it: sent again to a restarted helper. */
  request: () => string;
}

export interface CdevGpioOptions {
  /** gpiochip0, /dev/gpiochip0 or a label (pinctrl-bcm2711); the header's chip by default. */
  chip?: string;
  /** Path of gatehouse-gpio-cdev; found by findCdevHelper by default. */
  helper?: string;
  devDir?: string;
}

export class CdevGpio implements GpioBackend {
  readonly name = 'cdev';
  readonly chip: CdevChipInfo;
  readonly helper: string;
  /** Edges the kernel dropped because its queue overflowed (gaps in line_seqno). */
  readonly stats = { events: 0, dropped: 0 };
  #proc: ChildProcessWithoutNullStreams | null = null;
  #buf = '';
  #nextId = 1;
  readonly #lines = new Map<number, LineState>();
  #restartMs = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  /** Times the helper was started again after it died. */
  restarts = 0;

  constructor(opts: CdevGpioOptions = {}) {
    const helper = findCdevHelper(opts.helper);
    if (!helper)
      throw new GpioError(
        'missing',
        opts.helper ? `${opts.helper} is not an executable` : `${CDEV_HELPER_NAME} not found (npm run build:gpio-cdev -w edge-agent)`,
      );
    this.helper = helper;
    const devices = listCdevDevices(opts.devDir);
    this.chip = pickCdevChip(
      devices.map((p) => cdevChipInfo(helper, p)),
      opts.chip,
    );
  }

  /** The helper's process id while it runs. */
  get helperPid(): number | undefined {
    return this.#proc?.pid;
  }

  get detail(): string {
    const dropped = this.stats.dropped > 0 ? `, ${this.stats.dropped} edges dropped by the kernel` : '';
    return `cdev ${this.chip.name} (${this.chip.label}, ${this.chip.lines} lines), kernel timestamps${dropped}`;
  }

  #where(line: number): string {
    return `GPIO line ${line} (${this.chip.name})`;
  }

  #check(line: number): void {
    if (!Number.isInteger(line) || line < 0 || line >= this.chip.lines)
      throw new GpioError('invalid', `GPIO line ${line} is beyond ${this.chip.label} (${this.chip.lines} lines)`);
    for (const l of this.#lines.values()) if (l.offset === line && !l.closed) throw new GpioError('busy', `${this.#where(line)} is busy`);
  }

  #serve(): ChildProcessWithoutNullStreams {
    if (this.#proc) return this.#proc;
    const proc = spawn(this.helper, ['serve', this.chip.path], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => this.#data(chunk));
    proc.stderr.resume();
    let gone = false;
    const lost = (why: string) => {
      if (gone) return;
      gone = true;
      if (this.#proc === proc) this.#proc = null;
      if (this.#lines.size > 0) this.#die(new GpioError('missing', `${CDEV_HELPER_NAME} ${why}: GPIO lines released`));
    };
    proc.on('error', (e) => lost(`failed: ${e.message}`));
    proc.on('exit', (code, signal) => lost(`exited (${signal ?? code})`));
    // The relay's safe value is driven by the helper itself when this process goes away (end of its stdin).
    proc.stdin.on('error', () => {});
    this.#proc = proc;
    return proc;
  }

  /**
   * The helper died (killed, OOM): the lines were released with it. Drivers see the error (a reader turns
   * unhealthy, a relay write throws) until a new helper, started with back-off (1 s doubling to 30 s),
   * has requested every open line again; an output is requested with the value it had.
   */
  #die(err: GpioError): void {
    for (const l of this.#lines.values()) {
      l.error = err;
      for (const w of [...l.watchers]) w(err, l.value);
    }
    if (this.#restartTimer) return;
    this.#restartMs = Math.min(30_000, this.#restartMs ? this.#restartMs * 2 : 1000);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#lines.size === 0) return;
      this.restarts++;
      for (const l of this.#lines.values()) this.#send(l.request());
    }, this.#restartMs);
    this.#restartTimer.unref();
  }

  #data(chunk: string): void {
    this.#buf += chunk;
    let nl = this.#buf.indexOf('\n');
    while (nl >= 0) {
      this.#message(this.#buf.slice(0, nl));
      this.#buf = this.#buf.slice(nl + 1);
      nl = this.#buf.indexOf('\n');
    }
  }

  #message(msg: string): void {
    const [kind, idText, a, b, c] = msg.split(' ');
    const l = this.#lines.get(Number(idText));
    if (kind === 'ev' && l && !l.closed && a && b) {
      this.stats.events++;
      const seq = Number(c);
      if (l.lastSeq > 0 && seq > l.lastSeq + 1) this.stats.dropped += seq - l.lastSeq - 1;
      l.lastSeq = seq;
      const value: Bit = a === 'r' ? 1 : 0;
      l.value = value;
      const fire = l.edge === 'both' || (l.edge === 'rising' && value === 1) || (l.edge === 'falling' && value === 0);
      if (fire) {
        const ts = BigInt(b);
        for (const w of [...l.watchers]) w(null, value, ts);
      }
    } else if (kind === 'ok' && l) {
      if (!l.output) l.value = a === '1' ? 1 : 0;
      l.lastSeq = 0;
      if (l.error?.code === 'missing') {
        l.error = null;
        this.#restartMs = 0;
      }
    } else if (kind === 'err' && l) {
      const errno = a ?? 'EOTHER';
      l.error = cdevError(errno, msg.split(' ').slice(3).join(' '), this.#where(l.offset));
      for (const w of [...l.watchers]) w(l.error, l.value);
    }
  }

  #send(cmd: string): void {
    this.#serve().stdin.write(`${cmd}\n`);
  }

  #line(state: LineState): GpioLine {
    return {
      error: () => state.error,
      read: () => state.value,
      write: (v) => {
        if (state.error) {
          // The helper is down: the value is still what the line should have (a pulse's end, a hold) once
          // a new helper requests it again, so a relay does not stay energised because its off came too soon.
          if (state.error.code === 'missing' && state.output) state.value = v;
          throw state.error;
        }
        if (state.closed) throw new GpioError('invalid', `${this.#where(state.offset)} is closed`);
        state.value = v;
        this.#send(`set ${state.id} ${v}`);
      },
      watch: (cb) => {
        state.watchers.push(cb);
      },
      unwatchAll: () => {
        state.watchers = [];
      },
      close: () => {
        if (state.closed) return;
        state.closed = true;
        state.watchers = [];
        this.#lines.delete(state.id);
        if (this.#lines.size === 0 && this.#restartTimer) {
          clearTimeout(this.#restartTimer);
          this.#restartTimer = null;
        }
        if (this.#proc) {
          this.#send(`close ${state.id}`);
          // The last line closed: the helper ends with its stdin, and nothing keeps this process alive.
          if (this.#lines.size === 0) {
            this.#proc.stdin.end();
            this.#proc = null;
          }
        }
      },
    };
  }

  input(line: number, o: { edge: Edge; activeLow?: boolean; debounceMs?: number }): GpioLine {
    this.#check(line);
    const al = o.activeLow ? 1 : 0;
    const [, value] = run(this.helper, ['probe', this.chip.path, String(line), 'in', String(al)]).split('\t');
    const state: LineState = {
      id: this.#nextId++,
      offset: line,
      output: false,
      edge: o.edge,
      value: value === '1' ? 1 : 0,
      watchers: [],
      error: null,
      lastSeq: 0,
      closed: false,
      request: () => `in ${state.id} ${line} ${al} ${Math.round((o.debounceMs ?? 0) * 1000)} as-is`,
    };
    this.#lines.set(state.id, state);
    this.#send(state.request());
    return this.#line(state);
  }

  output(line: number, o: { activeLow?: boolean; initial: Bit }): GpioLine {
    this.#check(line);
    const [, use, consumer] = run(this.helper, ['probe', this.chip.path, String(line), 'out']).split('\t');
    if (use === 'used') throw new GpioError('busy', `${this.#where(line)} is busy: used by ${consumer || 'a kernel driver'}`);
    const state: LineState = {
      id: this.#nextId++,
      offset: line,
      output: true,
      edge: 'none',
      value: o.initial,
      watchers: [],
      error: null,
      lastSeq: 0,
      closed: false,
      // The initial value is the safe one (a relay is opened de-energised): the helper drives it again if we die.
      request: () => `out ${state.id} ${line} ${o.activeLow ? 1 : 0} ${state.value} ${o.initial}`,
    };
    this.#lines.set(state.id, state);
    this.#send(state.request());
    return this.#line(state);
  }
}
