import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWiegand } from '@gatehouse/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { GpioError } from '../src/hardware/gpio.js';
import { CdevGpio, pickCdevChip } from '../src/hardware/gpio-cdev.js';
import { selectGpioBackend } from '../src/hardware/gpio-select.js';
import type { ReaderInput } from '../src/hardware/types.js';
import { WiegandReader } from '../src/hardware/wiegand.js';
import { tempDir } from './tmp.js';

const FAKE_HELPER = fileURLToPath(new URL('./gpio-cdev-helper-fake.mjs', import.meta.url));
const SOURCE = fileURLToPath(new URL('../native/gatehouse-gpio-cdev.c', import.meta.url));
const hasCc = spawnSync('cc', ['--version']).status === 0;

async function until<T>(fn: () => T, what: string, ms = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GPIO character device backend', () => {
  let t: ReturnType<typeof tempDir>;
  let logFile: string;
  beforeEach(() => {
    t = tempDir();
    // A /dev with one chip: the fake helper never opens it.
    writeFileSync(join(t.dir, 'gpiochip0'), '');
    logFile = join(t.dir, 'helper.log');
    vi.stubEnv('FAKE_LOG', logFile);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    t.cleanup();
  });
  const helperLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  it('picks the header chip, the only chip or the configured one, and says which chips there are otherwise', () => {
    const chip = (name: string, label: string) => ({ name, path: `/dev/${name}`, label, lines: 32 });
    const pi5 = [chip('gpiochip0', 'gpio-brcmstb@107d508500'), chip('gpiochip4', 'pinctrl-rp1')];
    expect(pickCdevChip(pi5).name).toBe('gpiochip4');
    expect(pickCdevChip([chip('gpiochip0', 'gpio-mockup-A')]).name).toBe('gpiochip0');
    expect(pickCdevChip(pi5, 'gpio-brcmstb@107d508500').name).toBe('gpiochip0');
    expect(pickCdevChip(pi5, '/dev/gpiochip4').name).toBe('gpiochip4');
    expect(() => pickCdevChip(pi5, 'gpiochip9')).toThrow(/no GPIO chip gpiochip9 \(chips: gpiochip0/);
    expect(() => pickCdevChip([chip('gpiochip0', 'a'), chip('gpiochip1', 'b')])).toThrow(/set gpio.chip/);
    expect(() => pickCdevChip([])).toThrow(GpioError);
  });

  it('delivers edges with their kernel timestamps, filtered to the edge asked for, and counts the kernel drops', async () => {
    const gpio = new CdevGpio({ helper: FAKE_HELPER, devDir: t.dir });
    expect(gpio.chip).toMatchObject({ name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 });
    const line = gpio.input(9, { edge: 'falling' });
    expect(line.read()).toBe(1); // the probe's value, before any event
    const seen: [Error | null | undefined, number, bigint | undefined][] = [];
    line.watch((err, v, ts) => seen.push([err, v, ts]));
    await until(() => seen.length === 2, 'two falling edges');
    expect(seen).toEqual([
      [null, 0, 1000n],
      [null, 0, 3000n],
    ]);
    expect(line.read()).toBe(0);
    expect(gpio.stats).toMatchObject({ events: 3, dropped: 2 });
    expect(gpio.detail).toMatch(/cdev gpiochip0 \(pinctrl-bcm2711, 58 lines\), kernel timestamps, 2 edges dropped/);
    line.close();
    await until(() => helperLog().includes('eof'), 'the helper to see the end of its input');
    expect(helperLog()).toMatch(/^in 1 9 0 0 as-is$/m);
  });

  it('throws as sysfs does for a busy line, a line used by a driver or beyond the chip; a failed write shows on the next', async () => {
    const gpio = new CdevGpio({ helper: FAKE_HELPER, devDir: t.dir });
    expect(() => gpio.input(13, { edge: 'both' })).toThrow(expect.objectContaining({ code: 'busy' }));
    expect(() => gpio.output(4, { initial: 0 })).toThrow(/busy: used by spi0 CS0/);
    expect(() => gpio.input(58, { edge: 'both' })).toThrow(expect.objectContaining({ code: 'invalid' }));
    const relay = gpio.output(21, { initial: 0, activeLow: true });
    expect(() => gpio.output(21, { initial: 0 })).toThrow(expect.objectContaining({ code: 'busy' }));
    relay.write(1);
    // The helper answers the write with EIO; the next write throws it.
    const failed = await until(() => {
      try {
        relay.write(0);
        return null;
      } catch (e) {
        return e as Error;
      }
    }, 'the write error');
    expect(failed.message).toMatch(/GPIO line 21 \(gpiochip0\): GPIO_V2_LINE_SET_VALUES_IOCTL: Input\/output error/);
    expect(helperLog()).toMatch(/^set 1 1$/m);
    relay.close();
    // The relay's initial (de-energised) value is also the one the helper drives when the agent goes away.
    expect(helperLog()).toMatch(/^out 1 21 1 0 0$/m);
  });

  it('a Wiegand reader on cdev splits one late batch into the frames sent, D0 and D1 in the order of their timestamps', async () => {
    const frames = [encodeWiegand('w26', 7, 4242), encodeWiegand('w34', 300, 9)];
    vi.stubEnv('FAKE_WIEGAND', frames.join(','));
    const gpio = new CdevGpio({ helper: FAKE_HELPER, devDir: t.dir });
    const reader = new WiegandReader({ type: 'wiegand', name: 'cards', d0: 5, d1: 6, direction: 'in' }, gpio);
    const got: ReaderInput[] = [];
    reader.onInput((i) => got.push(i));
    await reader.start();
    await until(() => got.length === 2, 'two frames');
    expect(got.map((i) => i.data)).toEqual([`W26:${frames[0]}`, `W34:${frames[1]}`]);
    expect(reader.health()).toMatchObject({ healthy: true, detail: expect.stringMatching(/via cdev gpiochip0/) });
    await reader.stop();
  });

  it('a helper that dies turns the reader unhealthy; a new one requests the lines again and it recovers', async () => {
    const gpio = new CdevGpio({ helper: FAKE_HELPER, devDir: t.dir });
    const reader = new WiegandReader({ type: 'wiegand', name: 'cards', d0: 5, d1: 6, direction: 'in' }, gpio);
    await reader.start();
    const relay = gpio.output(17, { initial: 0 });
    relay.write(1);
    const pid = await until(() => gpio.helperPid, 'the helper');
    await until(() => helperLog().includes('set 3 1'), 'the relay write');
    process.kill(pid, 'SIGKILL');
    const down = await until(() => {
      const h = reader.health();
      return h.healthy ? null : h;
    }, 'the reader to turn unhealthy');
    expect(down.detail).toMatch(/gatehouse-gpio-cdev exited \(SIGKILL\): GPIO lines released/);
    // The pulse ends while the helper is down: the write fails, and the new helper gets the relay off.
    expect(() => relay.write(0)).toThrow(/exited/);
    await until(() => reader.health().healthy, 'the reader to recover after the restart');
    expect(gpio.restarts).toBe(1);
    expect(gpio.helperPid).not.toBe(pid);
    // Requested again as they were; the relay with the value last asked of it, its safe value still 0.
    expect(helperLog().match(/^in 1 5 0 0 as-is$/gm)).toHaveLength(2);
    expect(helperLog().match(/^out 3 17 0 0 0$/gm)).toHaveLength(2);
    await until(() => {
      try {
        relay.write(0);
        return true;
      } catch {
        return false;
      }
    }, 'the relay to take writes again');
    relay.close();
    await reader.stop();
    // The restarted helper ends with its stdin once the last line is closed.
    await until(() => helperLog().endsWith('eof\n'), 'the helper to end');
  });

  it('auto takes cdev where there is a chip and the helper runs, and otherwise logs why it stays on sysfs', () => {
    const log = { info: vi.fn(), warn: vi.fn() };
    const cdev = selectGpioBackend({ backend: 'auto', cdevHelper: FAKE_HELPER }, log, t.dir);
    expect(cdev.name).toBe('cdev');
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ backend: 'cdev', configured: 'auto' }), 'GPIO backend');

    const empty = tempDir();
    try {
      const sysfsRoot = join(empty.dir, 'absent');
      let chosen: { name: string } | GpioError;
      try {
        chosen = selectGpioBackend({ backend: 'auto', cdevHelper: FAKE_HELPER, sysfsRoot }, log, empty.dir);
      } catch (e) {
        chosen = e as GpioError;
      }
      // No chip in this /dev: sysfs is tried, and fails here for its own reason (no sysfs at that root).
      expect(chosen).toBeInstanceOf(GpioError);
      expect((chosen as GpioError).message).toMatch(/GPIO sysfs interface not found.*; character device: no GPIO character device/);
      expect(log.warn).toHaveBeenCalledWith(
        expect.objectContaining({ backend: 'sysfs', cdevUnavailable: expect.stringMatching(/no GPIO character device/) }),
        expect.stringMatching(/no kernel timestamps/),
      );
      // Forced cdev does not fall back.
      expect(() => selectGpioBackend({ backend: 'cdev', cdevHelper: FAKE_HELPER }, log, empty.dir)).toThrow(/no GPIO character device/);
      expect(() => selectGpioBackend({ backend: 'cdev', cdevHelper: join(empty.dir, 'nope') }, log, t.dir)).toThrow(/is not an executable/);
    } finally {
      empty.cleanup();
    }
  });

  it('config: gpio.backend is auto, cdev or sysfs, with chip and cdevHelper; anything else is refused', () => {
    const base = {
      dataDir: '/var/lib/gatehouse-edge',
      readers: [{ type: 'wiegand', d0: 5, d1: 6, direction: 'in' }],
      relay: { type: 'gpio', pin: 17 },
    };
    expect(parseConfig(base).gpio?.backend).toBeUndefined();
    expect(
      parseConfig({ ...base, gpio: { backend: 'cdev', chip: 'gpiochip4', cdevHelper: '/usr/lib/gatehouse/gatehouse-gpio-cdev' } }).gpio,
    ).toEqual({
      backend: 'cdev',
      chip: 'gpiochip4',
      cdevHelper: '/usr/lib/gatehouse/gatehouse-gpio-cdev',
    });
    expect(() => parseConfig({ ...base, gpio: { backend: 'libgpiod' } })).toThrow(ConfigError);
  });
});

describe('the gatehouse-gpio-cdev helper itself', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());

  it.skipIf(!hasCc)('builds with cc from the kernel headers and refuses a device that is not a GPIO chip', () => {
    const bin = join(t.dir, 'gatehouse-gpio-cdev');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', '-o', bin, SOURCE], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
    expect(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout).toMatch(/uAPI v2/);
    const dev = join(t.dir, 'dev');
    spawnSync('mkdir', [dev]);
    expect(() => new CdevGpio({ helper: bin, devDir: dev })).toThrow(/no GPIO character device/);
    symlinkSync('/dev/null', join(dev, 'gpiochip0'));
    // /dev/null answers the chip-info ioctl with ENOTTY: the helper's error reaches the agent as a GpioError.
    expect(() => new CdevGpio({ helper: bin, devDir: dev })).toThrow(/GPIO_GET_CHIPINFO_IOCTL: Inappropriate ioctl/);

    // The serve loop's command parser and replies, on the same non-chip: every request fails with the
    // kernel's errno, unknown ids and bad commands are answered, and the end of input ends it cleanly.
    const serve = spawnSync(bin, ['serve', '/dev/null'], {
      input: ['in 1 17 0 0 pull-up', 'out 2 18 1 0 0', 'set 9 1', 'close 9', 'frobnicate', 'x'.repeat(5000), ''].join('\n'),
      encoding: 'utf8',
      timeout: 5000,
    });
    expect(serve.status).toBe(0);
    expect(serve.stdout.split('\n')).toEqual([
      'ready /dev/null',
      'err 1 ENOTTY GPIO_V2_GET_LINE_IOCTL: Inappropriate ioctl for device',
      'err 2 ENOTTY GPIO_V2_GET_LINE_IOCTL: Inappropriate ioctl for device',
      'err 9 ENOENT no such line: No such file or directory',
      'ok 9 0',
      'err 0 EINVAL bad command: Invalid argument',
      'err 0 E2BIG line too long: Argument list too long',
      '',
    ]);
  });

  // gpio-sim (configfs) makes a real GPIO chip whose lines a test can pull; containers and CI machines rarely have it.
  const SIM = '/sys/kernel/config/gpio-sim';
  const simReason = !existsSync(SIM)
    ? `no ${SIM} (kernel module gpio-sim not loaded, or configfs not mounted): the real character device is not exercised here`
    : !hasCc
      ? 'no cc to build the helper'
      : null;
  it.skipIf(simReason !== null)(
    `edges on a gpio-sim chip reach the watcher with a CLOCK_MONOTONIC timestamp${simReason ? ` [skipped: ${simReason}]` : ''}`,
    async () => {
      const bin = join(t.dir, 'gatehouse-gpio-cdev');
      expect(spawnSync('cc', ['-O2', '-std=c11', '-o', bin, SOURCE]).status).toBe(0);
      const dev = join(SIM, `gatehouse-${process.pid}`);
      spawnSync('mkdir', ['-p', join(dev, 'bank0')]);
      try {
        writeFileSync(join(dev, 'bank0', 'num_lines'), '8');
        writeFileSync(join(dev, 'bank0', 'label'), 'gatehouse-sim');
        writeFileSync(join(dev, 'live'), '1');
        const chipName = readFileSync(join(dev, 'bank0', 'chip_name'), 'utf8').trim();
        const devName = readFileSync(join(dev, 'dev_name'), 'utf8').trim();
        const gpio = new CdevGpio({ helper: bin, chip: chipName });
        const line = gpio.input(3, { edge: 'falling' });
        const seen: bigint[] = [];
        line.watch((err, _v, ts) => {
          if (!err && ts !== undefined) seen.push(ts);
        });
        const pull = join('/sys/devices/platform', devName, chipName, 'sim_gpio3', 'pull');
        const before = process.hrtime.bigint();
        writeFileSync(pull, 'pull-up');
        await new Promise((r) => setTimeout(r, 50));
        writeFileSync(pull, 'pull-down');
        await until(() => seen.length > 0, 'a falling edge');
        expect(seen[0]).toBeGreaterThan(before);
        expect(seen[0]).toBeLessThanOrEqual(process.hrtime.bigint());
        line.close();
      } finally {
        try {
          writeFileSync(join(dev, 'live'), '0');
        } catch {}
        for (const d of [join(dev, 'bank0'), dev]) spawnSync('rmdir', [d]);
      }
      expect(readdirSync(SIM)).not.toContain(`gatehouse-${process.pid}`);
    },
  );
});
