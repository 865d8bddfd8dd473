/**
 * GPIO behind a small interface. The config names lines as the board does
 * (BCM 17); the sysfs interface that `onoff` drives numbers them from the
 * chip's base, which on Raspberry Pi OS Bookworm is 512 or more (512, 522,
 * 571 by model and kernel), so a bare 17 fails with EINVAL. The base is read
 * from /sys/class/gpio/gpiochip*\/{base,label,ngpio}. The character-device
 * backend (gpio-cdev.ts: line offsets, no base, kernel timestamps of edges)
 * implements the same interface; gpio-select.ts picks one (config gpio.backend).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type Bit = 0 | 1;
export type Edge = 'none' | 'rising' | 'falling' | 'both';

/**
 * An edge callback. `timestampNs` is the kernel's CLOCK_MONOTONIC time of the edge (the same clock as
 * process.hrtime.bigint()) where the backend has it (cdev); without it (sysfs, FakeGpio) the edge happened
 * at best when the callback runs, which on a busy event loop can be much later.
 */
export type WatchCallback = (err: Error | null | undefined, value: Bit, timestampNs?: bigint) => void;

/** One line. Values are logical: with activeLow, 1 means the line is driven/seen low. */
export interface GpioLine {
  read(): Bit;
  write(value: Bit): void;
  watch(cb: WatchCallback): void;
  unwatchAll(): void;
  close(): void;
  /** The line's current failure, where the backend can lose and regain a line (cdev: its helper restarted). */
  error?(): Error | null;
}

export interface GpioBackend {
  readonly name: string;
  /** What hardware health shows of the backend (which one, which chip). */
  readonly detail?: string;
  input(line: number, opts: { edge: Edge; activeLow?: boolean; debounceMs?: number }): GpioLine;
  /** `initial` is applied as the line is configured, so a relay never glitches on at start. */
  output(line: number, opts: { activeLow?: boolean; initial: Bit }): GpioLine;
}

export type GpioErrorCode = 'missing' | 'busy' | 'no_chip' | 'invalid' | 'permission';

export class GpioError extends Error {
  constructor(
    readonly code: GpioErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GpioError';
  }
}

export interface GpioChipInfo {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

export const DEFAULT_SYSFS_ROOT = '/sys/class/gpio';

export function listSysfsChips(root = DEFAULT_SYSFS_ROOT): GpioChipInfo[] {
  if (!existsSync(root)) {
    throw new GpioError('missing', `GPIO sysfs interface not found at ${root} (kernel without CONFIG_GPIO_SYSFS, or not a GPIO board)`);
  }
  const read = (p: string) => readFileSync(p, 'utf8').trim();
  return readdirSync(root)
    .filter((n) => n.startsWith('gpiochip'))
    .map((name) => ({
      name,
      label: read(join(root, name, 'label')),
      base: Number(read(join(root, name, 'base'))),
      ngpio: Number(read(join(root, name, 'ngpio'))),
    }))
    .sort((a, b) => a.base - b.base);
}

/** The chips that carry a Raspberry Pi's 40-pin header (BCM2835/2711/2712 and the Pi 5's RP1). */
export const HEADER_CHIP = /pinctrl-(bcm2?7\d\d|bcm2835|rp1)|raspberrypi/i;

/** Board line → sysfs number: base of the header's chip + line. */
export function resolveSysfsNumber(line: number, chips: readonly GpioChipInfo[], chipBase?: number): number {
  if (chipBase !== undefined) return chipBase + line;
  if (chips.length === 0) throw new GpioError('no_chip', 'no GPIO chip is exported under sysfs');
  const chip = chips.find((c) => HEADER_CHIP.test(c.label)) ?? (chips.length === 1 ? chips[0] : chips.find((c) => line < c.ngpio));
  if (!chip)
    throw new GpioError('no_chip', `no GPIO chip has a line ${line} (chips: ${chips.map((c) => `${c.label}@${c.base}`).join(', ')})`);
  if (line >= chip.ngpio) throw new GpioError('invalid', `GPIO line ${line} is beyond ${chip.label} (${chip.ngpio} lines)`);
  return chip.base + line;
}

interface OnoffGpio {
  readSync(): number;
  writeSync(v: number): void;
  watch(cb: (err: Error | null | undefined, value: number) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
type OnoffCtor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: Edge,
  options?: { activeLow?: boolean; debounceTimeout?: number; reconfigureDirection?: boolean },
) => OnoffGpio;

function explain(e: unknown, line: number, sysfs: number): GpioError {
  const code = (e as { code?: string } | null)?.code;
  const where = `GPIO line ${line} (sysfs ${sysfs})`;
  if (code === 'EBUSY') return new GpioError('busy', `${where} is busy: claimed by another process or a kernel driver (check dtoverlays)`);
  if (code === 'EACCES' || code === 'EPERM')
    return new GpioError('permission', `${where}: permission denied (is the service user in the gpio group?)`);
  if (code === 'EINVAL') return new GpioError('invalid', `${where}: the kernel refused the number (wrong chip base?)`);
  return new GpioError('invalid', `${where}: ${(e as Error).message}`);
}

/** sysfs backend through onoff; loaded lazily so machines without GPIO never touch its native addon. */
export class SysfsGpio implements GpioBackend {
  readonly name = 'sysfs';
  get detail(): string {
    const base = this.opts.chipBase ?? this.#chips.find((c) => HEADER_CHIP.test(c.label))?.base ?? this.#chips[0]?.base;
    return `sysfs (onoff), chip base ${base ?? '?'}, no edge timestamps`;
  }
  readonly #chips: GpioChipInfo[];
  readonly #Gpio: OnoffCtor;

  constructor(private readonly opts: { sysfsRoot?: string; chipBase?: number } = {}) {
    this.#chips = opts.chipBase === undefined ? listSysfsChips(opts.sysfsRoot) : [];
    const onoff = createRequire(import.meta.url)('onoff') as { Gpio: OnoffCtor & { accessible: boolean } };
    if (!onoff.Gpio.accessible) throw new GpioError('missing', 'GPIO is not accessible on this machine (onoff: Gpio.accessible is false)');
    this.#Gpio = onoff.Gpio;
  }

  sysfsNumber(line: number): number {
    return resolveSysfsNumber(line, this.#chips, this.opts.chipBase);
  }

  #wrap(g: OnoffGpio): GpioLine {
    return {
      read: () => (g.readSync() ? 1 : 0),
      write: (v) => g.writeSync(v),
      watch: (cb) => g.watch((err, value) => cb(err, value ? 1 : 0)),
      unwatchAll: () => g.unwatchAll(),
      close: () => {
        g.unwatchAll();
        g.unexport();
      },
    };
  }

  input(line: number, o: { edge: Edge; activeLow?: boolean; debounceMs?: number }): GpioLine {
    const n = this.sysfsNumber(line);
    try {
      return this.#wrap(new this.#Gpio(n, 'in', o.edge, { activeLow: o.activeLow ?? false, debounceTimeout: o.debounceMs ?? 0 }));
    } catch (e) {
      throw explain(e, line, n);
    }
  }

  output(line: number, o: { activeLow?: boolean; initial: Bit }): GpioLine {
    const n = this.sysfsNumber(line);
    // sysfs "high"/"low" set the raw level (gpiod_direction_output_raw), ignoring active_low: invert here.
    const physical = o.activeLow ? 1 - o.initial : o.initial;
    try {
      return this.#wrap(new this.#Gpio(n, physical ? 'high' : 'low', 'none', { activeLow: o.activeLow ?? false }));
    } catch (e) {
      throw explain(e, line, n);
    }
  }
}

/** In-memory GPIO for tests and for exercising drivers without a board. */
export class FakeGpio implements GpioBackend {
  readonly name = 'fake';
  readonly lines = new Map<
    number,
    { value: Bit; mode: 'in' | 'out'; edge: Edge; watchers: ((e: null, v: Bit) => void)[]; writes: Bit[] }
  >();
  busy = new Set<number>();

  #open(line: number, mode: 'in' | 'out', edge: Edge, initial: Bit): GpioLine {
    if (this.busy.has(line) || this.lines.has(line)) throw new GpioError('busy', `GPIO line ${line} is busy`);
    const l = { value: initial, mode, edge, watchers: [] as ((e: null, v: Bit) => void)[], writes: [] as Bit[] };
    this.lines.set(line, l);
    return {
      read: () => l.value,
      write: (v) => {
        l.value = v;
        l.writes.push(v);
      },
      watch: (cb) => l.watchers.push(cb),
      unwatchAll: () => {
        l.watchers = [];
      },
      close: () => {
        this.lines.delete(line);
      },
    };
  }

  /** Inputs idle high, as pulled-up Wiegand data lines and sensor contacts do. */
  input(line: number, o: { edge: Edge }): GpioLine {
    return this.#open(line, 'in', o.edge, 1);
  }

  output(line: number, o: { initial: Bit }): GpioLine {
    return this.#open(line, 'out', 'none', o.initial);
  }

  /** Drives an input line from outside, firing watchers as the edge setting says. */
  set(line: number, value: Bit): void {
    const l = this.lines.get(line);
    if (!l) throw new Error(`line ${line} not open`);
    const prev = l.value;
    l.value = value;
    if (prev === value) return;
    const fire = l.edge === 'both' || (l.edge === 'rising' && value === 1) || (l.edge === 'falling' && value === 0);
    if (fire) for (const w of [...l.watchers]) w(null, value);
  }

  /** A pulse low then high again: how a Wiegand line sends one bit. */
  pulseLow(line: number): void {
    this.set(line, 0);
    this.set(line, 1);
  }
}
