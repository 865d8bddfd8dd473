import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sdNotify } from '../src/sd-notify.js';
import { until } from './harness.js';
import { tempDir } from './tmp.js';

describe('sd_notify', () => {
  const saved = { ...process.env };
  const t = tempDir();
  afterEach(() => {
    process.env = { ...saved };
  });

  // A stand-in for systemd-notify that records its arguments.
  const fake = () => {
    const log = join(t.dir, `calls-${Math.random()}.log`);
    const bin = join(t.dir, `notify-${Math.random()}.sh`);
    writeFileSync(bin, `#!/bin/sh\necho "$@" >> ${log}\n`);
    chmodSync(bin, 0o755);
    return { bin, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
  };

  it('is a no-op outside systemd', () => {
    delete process.env.NOTIFY_SOCKET;
    const n = sdNotify({ binary: '/nonexistent' });
    expect(n.watchdogMs).toBeNull();
    n.ready();
    n.stop();
  });

  it('sends READY and pings the watchdog at half its period while healthy', async () => {
    const f = fake();
    process.env.NOTIFY_SOCKET = '/run/systemd/notify';
    process.env.WATCHDOG_USEC = '1000000';
    let healthy = true;
    const n = sdNotify({ binary: f.bin, healthy: () => healthy });
    expect(n.watchdogMs).toBe(1000);
    n.ready('gate g');
    await until(
      () => {
        try {
          return f.calls().filter((c) => c === 'WATCHDOG=1').length >= 2;
        } catch {
          return false;
        }
      },
      'two watchdog pings',
      5000,
    );
    expect(f.calls()[0]).toBe('--ready --status=gate g');
    healthy = false;
    await new Promise((r) => setTimeout(r, 700)); // let a ping already in flight land
    const pings = f.calls().length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(f.calls().length).toBe(pings); // unhealthy: no pings, systemd will restart us
    n.stop();
  });

  it('ignores a watchdog meant for another process', () => {
    process.env.NOTIFY_SOCKET = '/run/systemd/notify';
    process.env.WATCHDOG_USEC = '1000000';
    process.env.WATCHDOG_PID = String(process.pid + 1);
    const n = sdNotify({ binary: '/nonexistent' });
    expect(n.watchdogMs).toBeNull();
    n.stop();
  });
});
