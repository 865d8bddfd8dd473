/**
 * The durable background job queue: pg-boss 10 (Node ≥ 20) in its own schema
 * `pgboss`, on PostgreSQL and on PGlite alike. On PostgreSQL pg-boss keeps a
 * small pool of its own; on PGlite it talks through the one in-process client
 * (`pgliteAdapter`). Jobs are fetched with `FOR UPDATE SKIP LOCKED`, so with
 * several cloud instances on one database each job runs once.
 *
 * Semantics every handler relies on:
 * - a handler that throws is retried with exponential backoff up to the
 *   queue's retry limit; after the last attempt the job is `failed` — the
 *   dead-letter state, listed per organisation and retried by an admin;
 * - every job's data carries `orgId`, so dead jobs are scoped like any row;
 * - `send(…, { tx })` enqueues inside the caller's transaction: the job exists
 *   exactly when the row that needs it was committed (nothing sent for a
 *   rolled-back invitation, nothing lost for a committed one).
 */
import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { JobsConfig } from '../config.js';
import { type DatabaseTimeouts, DEFAULT_DB_TIMEOUTS } from '../db/breaker.js';
import type { Database, Executor } from '../db/client.js';

export const SCHEMA = 'pgboss';

/** What a handler learns of the attempt it runs. */
export interface Attempt {
  id: string;
  /** 1 for the first run. */
  attempt: number;
  /** No retry follows if this attempt throws: the job goes dead. */
  final: boolean;
}

export interface JobData {
  orgId: string;
}

export type Handler<T extends JobData> = (data: T, attempt: Attempt) => Promise<void>;

export interface QueueOptions {
  /** Default: the config's retry limit. */
  retryLimit?: number;
  /** Seconds before the first retry; doubles each time. Default: the config's. */
  retryDelayS?: number;
  /** A run that takes longer is failed (and retried). */
  expireInS?: number;
  /** Jobs of this queue run at once per instance. */
  concurrency?: number;
}

export interface SendOptions {
  /** Run no earlier than this. */
  startAfter?: Date;
  /** Enqueue inside this transaction. */
  tx?: Executor;
}

export interface ScheduleOptions {
  /** The cron expression's time zone (default UTC). */
  tz?: string;
}

export interface DeadJob {
  id: string;
  queue: string;
  data: Record<string, unknown>;
  attempts: number;
  error: string | null;
  createdAt: string;
  failedAt: string | null;
}

export interface QueueStats {
  queue: string;
  /** Due and waiting to run (created or retry, start time reached). */
  depth: number;
  /** Waiting for a later start (reminders, retries in their backoff). */
  scheduled: number;
  active: number;
  dead: number;
  /** Seconds the oldest waiting job has been due; 0 when none. */
  oldestAgeS: number;
}

interface Defined {
  handler: Handler<JobData>;
  opts: QueueOptions;
}

type PgBossDb = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/**
 * pg-boss's own statements on the one PGlite client: parameterless text may hold several
 * statements (its migrations), which only `exec` runs; everything else is one `query`.
 */
function pgliteAdapter(client: PGlite): PgBossDb {
  return {
    async executeSql(text, values) {
      if (!values || values.length === 0) {
        const results = await client.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      }
      return client.query(text, values);
    },
  };
}

/**
 * pg-boss's statements inside a drizzle transaction: its `$n` placeholders become drizzle params
 * in order, so the insert runs on the transaction's own connection.
 */
function executorAdapter(tx: Executor): PgBossDb {
  return {
    async executeSql(text, values = []) {
      const parts: SQL[] = [];
      let last = 0;
      for (const m of text.matchAll(/\$(\d+)/g)) {
        parts.push(sql.raw(text.slice(last, m.index)));
        const v = values[Number(m[1]) - 1] ?? null;
        // Arrays are id lists (`$2::uuid[]` of cancel, complete…): a PostgreSQL array literal. Other objects are
        // pg-boss's JSON columns (data, output): passed as text, cast by the statement.
        const param = Array.isArray(v)
          ? `{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}`
          : v !== null && typeof v === 'object' && !(v instanceof Date)
            ? JSON.stringify(v)
            : v;
        parts.push(sql`${param}`);
        last = m.index + m[0].length;
      }
      parts.push(sql.raw(text.slice(last)));
      const result = (await tx.execute(sql.join(parts))) as unknown as { rows: unknown[] };
      return { rows: result.rows };
    },
  };
}

/**
 * pg-boss hands its options to `new pg.Pool(…)` as they are, so its pool takes the same bounds as the
 * app's (db/client.ts): a connect timeout, the server-side statement and idle-in-transaction timeouts,
 * and the client's own bound on a query for a server that stopped answering without closing the socket.
 * Without them a hung database would hang every worker's fetch, and `start()`, forever.
 */
export function pgBossConnectionOptions(t: DatabaseTimeouts): Record<string, number | boolean> {
  return {
    connectionTimeoutMillis: t.connectTimeoutMs,
    statement_timeout: t.statementTimeoutMs,
    idle_in_transaction_session_timeout: t.idleInTransactionTimeoutMs,
    query_timeout: t.statementTimeoutMs + 5_000,
    keepAlive: true,
  };
}

export class JobQueue {
  readonly #boss: PgBoss;
  readonly #defined = new Map<string, Defined>();
  readonly #config: JobsConfig;
  /** Set by the app once its logger exists. */
  log: Logger | null;
  #started = false;
  #failures = new Map<string, number>();
  readonly #failureListeners: Array<(queue: string) => void> = [];
  readonly #schedules = new Map<string, { cron: string; data: JobData; opts: ScheduleOptions }>();

  constructor(database: Database, config: JobsConfig, log: Logger | null = null) {
    this.#config = config;
    this.log = log;
    const common = {
      schema: SCHEMA,
      // Completed jobs are kept a day for inspection, dead ones a month; pg-boss archives then deletes.
      archiveCompletedAfterSeconds: 24 * 3600,
      archiveFailedAfterSeconds: 30 * 24 * 3600,
      deleteAfterDays: 30,
    };
    this.#boss =
      database.kind === 'pglite'
        ? new PgBoss({ ...common, db: pgliteAdapter(database.pglite as PGlite) as PgBoss.Db })
        : new PgBoss({
            ...common,
            ...pgBossConnectionOptions(config.dbTimeouts ?? DEFAULT_DB_TIMEOUTS),
            connectionString: database.url as string,
            max: 4,
            application_name: 'gatehouse-jobs',
          });
    this.#boss.on('error', (err) => this.log?.error({ err }, 'job queue error'));
  }

  /** Declares a queue and its handler; workers start with `start()` (or at once when already started). */
  async define<T extends JobData>(name: string, handler: Handler<T>, opts: QueueOptions = {}): Promise<void> {
    if (this.#defined.has(name)) throw new Error(`job queue ${name} defined twice`);
    this.#defined.set(name, { handler: handler as Handler<JobData>, opts });
    if (this.#started) await this.#open(name);
  }

  /**
   * A timed job: pg-boss's cron schedule (one per queue, kept in `pgboss.schedule`, so several
   * instances fire it once). Its data carries an organisation too — `NO_ORG` of lib/audit.ts for
   * the platform's own jobs. Applied at `start()` when the queue is not running yet.
   */
  async schedule<T extends JobData>(name: string, cron: string, data: T, opts: ScheduleOptions = {}): Promise<void> {
    if (!this.#defined.has(name)) throw new Error(`job queue ${name} is not defined`);
    this.#schedules.set(name, { cron, data, opts });
    if (this.#started) await this.#boss.schedule(name, cron, data as object, { tz: opts.tz ?? 'UTC' });
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.#boss.start();
    this.#started = true;
    for (const name of this.#defined.keys()) await this.#open(name);
    for (const [name, { cron, data, opts }] of this.#schedules)
      await this.#boss.schedule(name, cron, data as object, { tz: opts.tz ?? 'UTC' });
  }

  /** Whether workers run and the queue answers (the readiness check reports it). */
  get started(): boolean {
    return this.#started;
  }

  /** Called on every failed attempt of a handler (the failures counter of /metrics). */
  onFailure(listener: (queue: string) => void): void {
    this.#failureListeners.push(listener);
  }

  async #open(name: string): Promise<void> {
    const { handler, opts } = this.#defined.get(name)!;
    const retry = {
      retryLimit: opts.retryLimit ?? this.#config.retryLimit,
      retryDelay: opts.retryDelayS ?? this.#config.retryDelayS,
      retryBackoff: true,
      expireInSeconds: opts.expireInS ?? 60,
    };
    // createQueue is idempotent in effect (pg-boss answers an existing queue with no change); keep its options current.
    if (await this.#boss.getQueue(name)) await this.#boss.updateQueue(name, { name, policy: 'standard', ...retry });
    else await this.#boss.createQueue(name, { name, policy: 'standard', ...retry });
    if (!this.#config.work) return;
    const workers = Math.max(1, opts.concurrency ?? 1);
    for (let i = 0; i < workers; i++) {
      let workerId: string | null = null;
      workerId = await this.#boss.work<JobData>(
        name,
        { pollingIntervalSeconds: this.#config.pollIntervalS, includeMetadata: true, batchSize: 1 },
        async ([job]) => {
          if (!job) return;
          const attempt = { id: job.id, attempt: job.retryCount + 1, final: job.retryCount >= job.retryLimit };
          try {
            await handler(job.data, attempt);
          } catch (err) {
            this.#failures.set(name, (this.#failures.get(name) ?? 0) + 1);
            for (const l of this.#failureListeners) l(name);
            this.log?.warn({ err, queue: name, jobId: job.id, attempt: attempt.attempt, final: attempt.final }, 'job failed');
            throw err;
          } finally {
            // pg-boss 10 sleeps a polling interval after every fetch, even one that found a job: one
            // job per interval per worker. A worker that found one asks again at once instead, so a
            // backlog drains at the speed of its handlers and an idle queue still polls gently.
            if (workerId) this.#boss.notifyWorker(workerId);
          }
        },
      );
    }
  }

  async send<T extends JobData>(name: string, data: T, opts: SendOptions = {}): Promise<string | null> {
    if (!this.#defined.has(name)) throw new Error(`job queue ${name} is not defined`);
    const { tx, startAfter } = opts;
    return this.#boss.send(name, data as object, {
      ...(startAfter ? { startAfter } : {}),
      ...(tx ? { db: executorAdapter(tx) as PgBoss.Db } : {}),
    });
  }

  /**
   * Several jobs of one queue in one statement (pg-boss's `insert`), with ids the caller chose so it can
   * record them without reading them back; in `tx` as `send` does. For writes that enqueue many jobs at once
   * (the webhook fan-out: one delivery per endpoint), where a round trip each would add up.
   */
  async sendMany<T extends JobData>(
    name: string,
    jobs: ReadonlyArray<{ id: string; data: T }>,
    opts: { tx?: Executor } = {},
  ): Promise<void> {
    if (!this.#defined.has(name)) throw new Error(`job queue ${name} is not defined`);
    if (jobs.length === 0) return;
    await this.#boss.insert(
      jobs.map((j) => ({ name, id: j.id, data: j.data as object })),
      opts.tx ? { db: executorAdapter(opts.tx) as PgBoss.Db } : {},
    );
  }

  /**
   * Marks a running job done inside the caller's transaction, so what the handler wrote and the job's
   * completion commit together: a crash between the two cannot run it again and write it twice.
   * (pg-boss's own completion after the handler then finds the job done and changes nothing.)
   */
  async complete(name: string, id: string, tx: Executor): Promise<void> {
    // The four-argument form: pg-boss 10 reads a third argument as the job's output, whatever its types say.
    await this.#boss.complete(name, id, {}, { db: executorAdapter(tx) as PgBoss.Db });
  }

  /** Cancels a job that has not run yet (a reminder of a moved or cancelled visit); a finished job is left alone. */
  async cancel(name: string, id: string, tx?: Executor): Promise<void> {
    await this.#boss.cancel(name, id, tx ? { db: executorAdapter(tx) as PgBoss.Db } : undefined);
  }

  /** The organisation's dead jobs, newest first. */
  async dead(orgId: string, limit = 100): Promise<DeadJob[]> {
    const { rows } = await this.#raw(
      `select id, name, data, retry_count, output, created_on, completed_on from ${SCHEMA}.job
        where state = 'failed' and data->>'orgId' = $1 order by completed_on desc nulls last, id limit $2`,
      [orgId, limit],
    );
    return (rows as Array<Record<string, unknown>>).map(deadJob);
  }

  /** One dead job of this organisation, or null (another organisation's is as absent as an unknown one). */
  async deadJob(orgId: string, id: string): Promise<DeadJob | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.#raw(
      `select id, name, data, retry_count, output, created_on, completed_on from ${SCHEMA}.job
        where id = $1 and state = 'failed' and data->>'orgId' = $2`,
      [id, orgId],
    );
    const [row] = rows as Array<Record<string, unknown>>;
    return row ? deadJob(row) : null;
  }

  /**
   * Runs a dead job of this organisation again with a fresh set of attempts (its last error stays
   * until it runs); null if there is none. The job keeps its id and data, so its handler re-reads
   * whatever row it refers to (a `notify.send` job its message) and acts on that row's state now.
   */
  async retryDead(orgId: string, id: string): Promise<DeadJob | null> {
    const job = await this.deadJob(orgId, id);
    if (!job) return null;
    // started_on null: the next fetch counts it as a first attempt; keep_until moved on, or
    // pg-boss's maintenance would archive an old job's retry before a worker sees it.
    const { rows } = await this.#raw(
      `update ${SCHEMA}.job set state = 'retry', retry_count = 0, started_on = null, start_after = now(),
              completed_on = null, keep_until = now() + interval '14 days'
        where name = $1 and id = $2 and state = 'failed' and data->>'orgId' = $3 returning id`,
      [job.queue, id, orgId],
    );
    return rows.length === 1 ? job : null;
  }

  /**
   * Depth, running, dead and the age of the oldest waiting job, per defined queue: over every
   * organisation (for /metrics), or over one organisation's jobs (`data->>'orgId'`, for its admins).
   */
  async stats(orgId?: string): Promise<QueueStats[]> {
    const { rows } = await this.#raw(
      `select name,
              count(*) filter (where state in ('created', 'retry') and start_after <= now())::int as depth,
              count(*) filter (where state in ('created', 'retry') and start_after > now())::int as scheduled,
              count(*) filter (where state = 'active')::int as active,
              count(*) filter (where state = 'failed')::int as dead,
              coalesce(extract(epoch from now() - min(start_after) filter (where state in ('created', 'retry') and start_after <= now())), 0)::float8 as oldest
         from ${SCHEMA}.job where state in ('created', 'retry', 'active', 'failed') and ($1::text is null or data->>'orgId' = $1::text)
        group by name`,
      [orgId ?? null],
    );
    const byName = new Map((rows as Array<Record<string, unknown>>).map((r) => [String(r.name), r]));
    return [...this.#defined.keys()].map((queue) => {
      const r = byName.get(queue);
      return {
        queue,
        depth: Number(r?.depth ?? 0),
        scheduled: Number(r?.scheduled ?? 0),
        active: Number(r?.active ?? 0),
        dead: Number(r?.dead ?? 0),
        oldestAgeS: Number(r?.oldest ?? 0),
      };
    });
  }

  /** Handler failures since start, per queue (every failed attempt, retried or not). */
  failures(): Map<string, number> {
    return new Map(this.#failures);
  }

  get queues(): string[] {
    return [...this.#defined.keys()];
  }

  async #raw(text: string, values: unknown[]): Promise<{ rows: unknown[] }> {
    // Before start (or after stop) pg-boss has no connection on PostgreSQL and answers nothing.
    if (!this.#started) throw new Error('job queue is not running');
    // pg-boss's own connection: the same database, no second pool on PostgreSQL, the one client on PGlite.
    return (this.#boss as unknown as { getDb(): PgBossDb }).getDb().executeSql(text, values);
  }

  /**
   * Stops fetching, waits up to `timeoutMs` (pg-boss's floor: 1 s) for running handlers, then fails
   * what still runs (it is retried, here or on another instance) and closes pg-boss's pool.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: true });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function deadJob(r: Record<string, unknown>): DeadJob {
  return {
    id: String(r.id),
    queue: String(r.name),
    data: (r.data ?? {}) as Record<string, unknown>,
    attempts: Number(r.retry_count) + 1,
    error: errorText(r.output),
    createdAt: new Date(r.created_on as string).toISOString(),
    failedAt: r.completed_on ? new Date(r.completed_on as string).toISOString() : null,
  };
}

/** The last error's message; an e-mail address in it (a mail server's refusal) is masked, the stack dropped. */
function errorText(output: unknown): string | null {
  if (output == null) return null;
  const text =
    typeof output === 'object' && 'message' in output ? String((output as { message: unknown }).message) : JSON.stringify(output);
  return text.replace(/([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)/g, '$1…@$2').slice(0, 500);
}
