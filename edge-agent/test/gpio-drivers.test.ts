import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWiegand, parseCredential } from '@gatehouse/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeGpio, GpioError, listSysfsChips, resolveSysfsNumber } from '../src/hardware/gpio.js';
import { GpioRelay } from '../src/hardware/relay.js';
import { GpioPassageSensor } from '../src/hardware/sensor.js';
import type { ReaderInput } from '../src/hardware/types.js';
import { WiegandReader } from '../src/hardware/wiegand.js';
import { tempDir } from './tmp.js';

describe('sysfs GPIO numbering', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());
  const chip = (name: string, label: string, base: number, ngpio: number) => {
    mkdirSync(join(t.dir, name));
    writeFileSync(join(t.dir, name, 'label'), `${label}\n`);
    writeFileSync(join(t.dir, name, 'base'), `${base}\n`);
    writeFileSync(join(t.dir, name, 'ngpio'), `${ngpio}\n`);
  };

  it('finds the header chip base on a Bookworm Pi 4 (512) and Pi 5 (571)', () => {
    chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
    chip('gpiochip570', 'raspberrypi-exp-gpio', 570, 8);
    expect(resolveSysfsNumber(17, listSysfsChips(t.dir))).toBe(529);
    const t5 = tempDir();
    try {
      for (const [n, l, b, g] of [
        ['gpiochip512', 'gpio-brcmstb@107d508500', 512, 32],
        ['gpiochip571', 'pinctrl-rp1', 571, 54],
      ] as const) {
        mkdirSync(join(t5.dir, n));
        writeFileSync(join(t5.dir, n, 'label'), l);
        writeFileSync(join(t5.dir, n, 'base'), String(b));
        writeFileSync(join(t5.dir, n, 'ngpio'), String(g));
      }
      expect(resolveSysfsNumber(17, listSysfsChips(t5.dir))).toBe(588);
    } finally {
      t5.cleanup();
    }
  });

  it('keeps base 0 on older kernels and honours an explicit chipBase', () => {
    chip('gpiochip0', 'pinctrl-bcm2835', 0, 54);
    expect(resolveSysfsNumber(17, listSysfsChips(t.dir))).toBe(17);
    expect(resolveSysfsNumber(17, [], 522)).toBe(539);
  });

  it('says clearly when GPIO is missing or the line does not exist', () => {
    expect(() => listSysfsChips(join(t.dir, 'absent'))).toThrow(/GPIO sysfs interface not found/);
    expect(() => resolveSysfsNumber(17, [])).toThrow(GpioError);
    chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
    expect(() => resolveSysfsNumber(60, listSysfsChips(t.dir))).toThrow(/beyond pinctrl-bcm2711/);
  });
});

describe('GPIO relay', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is configured de-energised, pulses for pulseMs, and close() de-energises', () => {
    const gpio = new FakeGpio();
    const relay = new GpioRelay(gpio, 17, 3000, true);
    const line = gpio.lines.get(17)!;
    expect(line).toMatchObject({ mode: 'out', value: 0 });
    relay.pulse();
    expect(line.value).toBe(1);
    vi.advanceTimersByTime(2999);
    expect(relay.active).toBe(true);
    relay.pulse(); // a second pulse restarts the window
    vi.advanceTimersByTime(2000);
    expect(line.value).toBe(1);
    vi.advanceTimersByTime(1001);
    expect(line.value).toBe(0);
    relay.pulse();
    relay.close();
    expect(line.writes.at(-1)).toBe(0);
    expect(gpio.lines.has(17)).toBe(false);
  });

  it('a busy pin is a clear error at start', () => {
    const gpio = new FakeGpio();
    gpio.busy.add(17);
    expect(() => new GpioRelay(gpio, 17)).toThrow(/GPIO line 17 is busy/);
  });
});

describe('Wiegand reader', () => {
  const send = (gpio: FakeGpio, bits: string) => {
    for (const b of bits) gpio.pulseLow(b === '1' ? 6 : 5);
  };
  const start = async (gpio: FakeGpio) => {
    const r = new WiegandReader({ type: 'wiegand', name: 'w', d0: 5, d1: 6, direction: 'in', frameTimeoutMs: 25 }, gpio);
    const got: ReaderInput[] = [];
    r.onInput((i) => got.push(i));
    await r.start();
    return { r, got };
  };
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([
    ['w26', 42, 1234],
    ['w34', 4242, 65535],
  ] as const)('assembles a %s frame by inter-bit timeout and it parses with parity', async (format, fc, card) => {
    const gpio = new FakeGpio();
    const { r, got } = await start(gpio);
    const bits = encodeWiegand(format, fc, card);
    send(gpio, bits);
    expect(got).toHaveLength(0);
    vi.advanceTimersByTime(26);
    expect(got).toHaveLength(1);
    expect(parseCredential(got[0]!.data)).toMatchObject({ kind: 'card', format, facility: fc, cardNumber: card });
    expect(r.health().healthy).toBe(true);
    await r.stop();
    expect(gpio.lines.size).toBe(0);
  });

  it('two cards separated by the timeout are two frames; a parity error or odd length is malformed', async () => {
    const gpio = new FakeGpio();
    const { got } = await start(gpio);
    const good = encodeWiegand('w26', 1, 2);
    send(gpio, good);
    vi.advanceTimersByTime(30);
    const flipped = `${good.slice(0, 5)}${good[5] === '1' ? '0' : '1'}${good.slice(6)}`;
    send(gpio, flipped);
    vi.advanceTimersByTime(30);
    send(gpio, '1010');
    vi.advanceTimersByTime(30);
    expect(got.map((g) => parseCredential(g.data).kind)).toEqual(['card', 'malformed', 'malformed']);
    expect(parseCredential(got[1]!.data)).toMatchObject({ detail: 'wiegand: parity' });
  });

  it('a busy data line fails start with the pin named and releases the other line', async () => {
    const gpio = new FakeGpio();
    gpio.busy.add(6);
    const r = new WiegandReader({ type: 'wiegand', name: 'w', d0: 5, d1: 6, direction: 'in' }, gpio);
    await expect(r.start()).rejects.toThrow(/GPIO line 6 is busy/);
    expect(gpio.lines.size).toBe(0);
  });
});

describe('GPIO passage sensor', () => {
  it('reports one passage per rising edge', async () => {
    const gpio = new FakeGpio();
    const s = new GpioPassageSensor(gpio, 27);
    let n = 0;
    s.onPassage(() => n++);
    await s.start();
    gpio.set(27, 0);
    gpio.set(27, 1);
    gpio.set(27, 0);
    gpio.set(27, 1);
    expect(n).toBe(2);
    expect(s.health().healthy).toBe(true);
    await s.stop();
    expect(s.health().healthy).toBe(false);
  });
});
