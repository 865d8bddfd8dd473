/** Builds drivers from the config. GPIO is opened only when something in the config needs it. */
import type { EdgeConfig, ReaderConfig, RelayConfig, SensorConfig } from '../config.js';
import type { GpioBackend } from './gpio.js';
import { type GpioSelectLog, selectGpioBackend } from './gpio-select.js';
import { OsdpBus, type OsdpBusOptions } from './osdp/bus.js';
import { OsdpKeyStore } from './osdp/keys.js';
import { OsdpReader, type OsdpReaderOptions } from './osdp/reader.js';
import { GpioRelay } from './relay.js';
import { GpioPassageSensor } from './sensor.js';
import type { PortFactory } from './serial-port.js';
import { type SerialQrOptions, SerialQrReader } from './serial-qr.js';
import { SimulatedPassageSensor, SimulatedReader, SimulatedRelay } from './simulated.js';
import type { PassageSensor, Reader, Relay } from './types.js';
import { WiegandReader } from './wiegand.js';

export interface HardwareDeps {
  gpio?: () => GpioBackend;
  openPort?: PortFactory;
  log?: SerialQrOptions['log'];
  /** Where OSDP keys set on this controller are kept (`osdp-keys.json`); the daemon passes the config's dataDir. */
  dataDir?: string;
  /** Timing overrides for OSDP buses and readers (tests, bench). */
  osdp?: Omit<OsdpBusOptions, 'openPort' | 'log'> & Omit<OsdpReaderOptions, 'bus' | 'keys' | 'log'>;
}

/**
 * OSDP readers on the same path share one bus (one port, one poll loop), and all share one key file. The daemon
 * hands the same deps object to every createReader call, so it is the natural owner of both.
 */
const osdpShared = new WeakMap<HardwareDeps, { buses: Map<string, OsdpBus>; keys: OsdpKeyStore | null }>();

function osdpReader(cfg: Extract<ReaderConfig, { type: 'osdp' }> & { name: string }, deps: HardwareDeps): OsdpReader {
  let shared = osdpShared.get(deps);
  if (!shared) {
    shared = { buses: new Map(), keys: deps.dataDir ? new OsdpKeyStore(deps.dataDir) : null };
    osdpShared.set(deps, shared);
  }
  let bus = shared.buses.get(cfg.path);
  if (!bus) {
    const { pollMs, replyTimeoutMs, retryMinMs, retryMaxMs } = deps.osdp ?? {};
    bus = new OsdpBus(cfg.path, cfg.baudRate ?? 9600, {
      ...(deps.openPort ? { openPort: deps.openPort } : {}),
      ...(deps.log ? { log: deps.log } : {}),
      ...(pollMs !== undefined ? { pollMs } : {}),
      ...(replyTimeoutMs !== undefined ? { replyTimeoutMs } : {}),
      ...(retryMinMs !== undefined ? { retryMinMs } : {}),
      ...(retryMaxMs !== undefined ? { retryMaxMs } : {}),
    });
    shared.buses.set(cfg.path, bus);
  }
  const { pollMs: _p, replyTimeoutMs: _r, retryMinMs: _a, retryMaxMs: _b, ...readerOpts } = deps.osdp ?? {};
  return new OsdpReader(cfg, { ...readerOpts, bus, keys: shared.keys, ...(deps.log ? { log: deps.log } : {}) });
}

/** The backend is chosen (gpio-select.ts) the first time a driver needs GPIO, and shared by all of them. */
export function gpioFactory(cfg: EdgeConfig, log?: GpioSelectLog): () => GpioBackend {
  let backend: GpioBackend | null = null;
  return () => {
    backend ??= selectGpioBackend(cfg.gpio, log);
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
    case 'osdp':
      return osdpReader(cfg, deps);
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
