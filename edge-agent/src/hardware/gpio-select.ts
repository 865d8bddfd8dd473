/**
 * Which GPIO backend drives the lines (config gpio.backend). `auto` takes the character device when there is a
 * /dev/gpiochip* and the helper runs (kernel timestamps of edges: Wiegand bits survive a busy event loop), and
 * sysfs otherwise (older kernels, or a machine where the helper was not built). The choice and its reason are
 * logged once and shown in hardware health.
 */
import type { EdgeConfig } from '../config.js';
import { type GpioBackend, GpioError, SysfsGpio } from './gpio.js';
import { CdevGpio } from './gpio-cdev.js';

export type GpioBackendChoice = 'auto' | 'cdev' | 'sysfs';

export interface GpioSelectLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function selectGpioBackend(gpio: EdgeConfig['gpio'], log?: GpioSelectLog, devDir?: string): GpioBackend {
  const want: GpioBackendChoice = gpio?.backend ?? 'auto';
  const sysfs = () =>
    new SysfsGpio({
      ...(gpio?.sysfsRoot ? { sysfsRoot: gpio.sysfsRoot } : {}),
      ...(gpio?.chipBase !== undefined ? { chipBase: gpio.chipBase } : {}),
    });
  const cdev = () =>
    new CdevGpio({
      ...(gpio?.chip ? { chip: gpio.chip } : {}),
      ...(gpio?.cdevHelper ? { helper: gpio.cdevHelper } : {}),
      ...(devDir ? { devDir } : {}),
    });
  if (want === 'sysfs') {
    const b = sysfs();
    log?.info({ backend: b.name, detail: b.detail, configured: want }, 'GPIO backend');
    return b;
  }
  if (want === 'cdev') {
    const b = cdev();
    log?.info({ backend: b.name, detail: b.detail, configured: want }, 'GPIO backend');
    return b;
  }
  let reason: string;
  try {
    const b = cdev();
    log?.info({ backend: b.name, detail: b.detail, configured: want }, 'GPIO backend');
    return b;
  } catch (e) {
    reason = (e as Error).message;
  }
  log?.warn({ backend: 'sysfs', configured: want, cdevUnavailable: reason }, 'GPIO backend: sysfs (no kernel timestamps of edges)');
  try {
    return sysfs();
  } catch (e) {
    // Neither: the error names both, since the one to fix may be the cdev one (a Pi 5 kernel without sysfs GPIO).
    if (e instanceof GpioError) throw new GpioError(e.code, `${e.message}; character device: ${reason}`);
    throw e;
  }
}
