/** Prometheus metrics of CONTRACT.md on the daemon's own registry (not prom-client's global one). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GateMetrics } from './gate.js';
import type { HardwareHealth } from './hardware/types.js';

export interface MetricsSources {
  outboxDepth(): number;
  hardware(): HardwareHealth[];
  cacheSeq(): number;
  /** The gate's mode (CMD-1, CMD-4), for an alert on a gate left in lockdown or emergency. */
  mode?(): GateMode;
  /** The store's write health (storage.ts): ok, and events kept in memory while it fails. */
  storage?(): { ok: boolean; buffered: number };
}

export type GateMode = 'normal' | 'lockdown' | 'emergency';
const MODES: readonly GateMode[] = ['normal', 'lockdown', 'emergency'];

export class EdgeMetrics implements GateMetrics {
  readonly registry = new Registry();
  readonly #decisionSeconds: Histogram<string>;
  readonly #decisions: Counter<'result' | 'reason'>;
  readonly #debounced: Counter<'reader'>;
  readonly #alerts: Counter<'kind'>;
  readonly #alarms: Counter<'kind' | 'state'>;

  constructor(sources: MetricsSources, opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.#decisionSeconds = new Histogram({
      name: 'gatehouse_decision_seconds',
      help: 'Credential received to relay command (or denial recorded)',
      // Sub-millisecond buckets: the target is p99 <= 1 ms.
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [this.registry],
    });
    this.#decisions = new Counter({
      name: 'gatehouse_decisions_total',
      help: 'Access decisions by result and reason',
      labelNames: ['result', 'reason'],
      registers: [this.registry],
    });
    this.#debounced = new Counter({
      name: 'gatehouse_debounced_reads_total',
      help: 'Repeated reads of the same code within the debounce window',
      labelNames: ['reader'],
      registers: [this.registry],
    });
    this.#alerts = new Counter({
      name: 'gatehouse_alerts_total',
      help: 'Entries admitted but reported, by kind (DEC-11 soft anti-passback)',
      labelNames: ['kind'],
      registers: [this.registry],
    });
    this.#alarms = new Counter({
      name: 'gatehouse_alarms_total',
      help: 'Door and reader alarms recorded, by kind and state (ALARM-1; forced passages too)',
      labelNames: ['kind', 'state'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'gatehouse_outbox_depth',
      help: 'Events not yet acknowledged by the cloud',
      registers: [this.registry],
      collect() {
        this.set(sources.outboxDepth());
      },
    });
    new Gauge({
      name: 'gatehouse_cache_seq',
      help: 'Last applied sync sequence number',
      registers: [this.registry],
      collect() {
        this.set(sources.cacheSeq());
      },
    });
    if (sources.storage) {
      const storage = sources.storage;
      new Gauge({
        name: 'gatehouse_storage_ok',
        help: '1 while the edge database takes writes, 0 while they fail (disk full, I/O error, read-only)',
        registers: [this.registry],
        collect() {
          this.set(storage().ok ? 1 : 0);
        },
      });
      new Gauge({
        name: 'gatehouse_storage_buffered',
        help: 'Events kept in memory because the edge database cannot take them',
        registers: [this.registry],
        collect() {
          this.set(storage().buffered);
        },
      });
    }
    if (sources.mode) {
      const mode = sources.mode;
      new Gauge({
        name: 'gatehouse_gate_mode',
        help: 'The gate mode now: 1 for the current one of normal, lockdown, emergency',
        labelNames: ['mode'],
        registers: [this.registry],
        collect() {
          const now = mode();
          for (const m of MODES) this.set({ mode: m }, m === now ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'gatehouse_hardware_healthy',
      help: 'Reader, relay and sensor health (1 = healthy)',
      labelNames: ['name', 'type'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const h of sources.hardware()) this.set({ name: h.name, type: h.type }, h.healthy ? 1 : 0);
      },
    });
  }

  decision(seconds: number, allow: boolean, reason: string): void {
    this.#decisionSeconds.observe(seconds);
    this.#decisions.inc({ result: allow ? 'allow' : 'deny', reason });
  }

  debounced(reader: string): void {
    this.#debounced.inc({ reader });
  }

  alert(kind: string): void {
    this.#alerts.inc({ kind });
  }

  alarm(kind: string, state: 'raised' | 'cleared'): void {
    this.#alarms.inc({ kind, state });
  }
}
