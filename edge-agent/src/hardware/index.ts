/** Builds drivers from the config. GPIO is opened only when something in the config needs it. */
import type { EdgeConfig, ReaderConfig, RelayConfig, SensorConfig } from '../config.js';
import { type GpioBackend, SysfsGpio } from './gpio.js';
import { GpioRelay } from './relay.js';
import { GpioPassageSensor } from './sensor.js';
import { type PortFactory, type SerialQrOptions, SerialQrReader } from './serial-qr.js';
import { SimulatedPassageSensor, SimulatedReader, SimulatedRelay } from './simulated.js';
import type { PassageSensor, Reader, Relay } from './types.js';
import { WiegandReader } from './wiegand.js';

export interface HardwareDeps {
  gpio?: () => GpioBackend;
  openPort?: PortFactory;
  log?: SerialQrOptions['log'];
}

export function gpioFactory(cfg: EdgeConfig): () => GpioBackend {
  let backend: GpioBackend | null = null;
  return () => {
    backend ??= new SysfsGpio({
      ...(cfg.gpio?.sysfsRoot ? { sysfsRoot: cfg.gpio.sysfsRoot } : {}),
      ...(cfg.gpio?.chipBase !== undefined ? { chipBase: cfg.gpio.chipBase } : {}),
    });
    return backend;
  };
}

export function createReader(cfg: ReaderConfig & { name: string }, deps: HardwareDeps, gpio: () => GpioBackend): Reader {
  switch (cfg.type) {
    case 'serial-qr':
      return new SerialQrReader(cfg, { ...(deps.openPort ? { openPort: deps.openPort } : {}), ...(deps.log ? { log: deps.log } : {}) });
    case 'wiegand':
      return new WiegandReader(cfg, gpio());
    case 'simulated':
      return new SimulatedReader(cfg.name, cfg.direction);
  }
}

export function createRelay(cfg: RelayConfig, gpio: () => GpioBackend): Relay {
  if (cfg.type === 'simulated') return new SimulatedRelay(cfg.pulseMs ?? 3000, cfg.logFile);
  return new GpioRelay(gpio(), cfg.pin, cfg.pulseMs ?? 3000, cfg.activeLow ?? false);
}

export function createSensor(cfg: SensorConfig, gpio: () => GpioBackend): PassageSensor {
  if (cfg.type === 'simulated') return new SimulatedPassageSensor();
  return new GpioPassageSensor(gpio(), cfg.pin, cfg.activeLow ?? false);
}

export type { GpioBackend } from './gpio.js';
export type { HardwareHealth, PassageSensor, PulseRecord, Reader, ReaderCondition, ReaderFeedback, ReaderInput, Relay } from './types.js';
