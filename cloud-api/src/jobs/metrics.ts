/**
 * The queue on /metrics: depth, age of the oldest due job and dead jobs per queue (read from the
 * database on scrape, over every organisation), and failed attempts counted by this instance.
 * One stats query serves all three gauges, and its answer is reused for `cacheMs`, so a storm of
 * scrapes (several Prometheus servers, a dashboard refreshing) costs one query per interval.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { JobQueue, QueueStats } from './queue.js';

export function registerJobMetrics(registry: Registry, jobs: JobQueue, cacheMs = 2_000): void {
  let cached: { at: number; stats: Promise<QueueStats[]> } | null = null;
  const stats = (): Promise<QueueStats[]> => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) {
      const pending = jobs.started ? jobs.stats() : Promise.resolve([]);
      // A failed query is not cached: the next scrape asks again.
      pending.catch(() => {
        if (cached?.stats === pending) cached = null;
      });
      cached = { at: now, stats: pending };
    }
    return cached.stats;
  };
  const gauge = (name: string, help: string, pick: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        // A scrape while the database is away still answers, without these series.
        for (const s of await stats().catch(() => [])) this.set({ queue: s.queue }, pick(s));
      },
    });
  gauge('gatehouse_jobs_depth', 'Background jobs due and waiting to run', (s) => s.depth);
  gauge('gatehouse_jobs_oldest_age_seconds', 'How long the oldest due job has waited', (s) => s.oldestAgeS);
  gauge('gatehouse_jobs_dead', 'Jobs that failed their last attempt (dead letters)', (s) => s.dead);
  gauge('gatehouse_jobs_scheduled', 'Jobs waiting for a later start (reminders, retries in backoff)', (s) => s.scheduled);
  const failures = new Counter({
    name: 'gatehouse_jobs_failures_total',
    help: 'Failed job attempts on this instance (retried or not)',
    labelNames: ['queue'] as const,
    registers: [registry],
    collect() {
      // Every defined queue has a series from the start, so rate() sees the first failure.
      for (const queue of jobs.queues) this.inc({ queue }, 0);
    },
  });
  jobs.onFailure((queue) => failures.inc({ queue }));
}
