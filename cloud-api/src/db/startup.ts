/**
 * Bringing the database up to what the code expects (migrations, sealing of
 * old rows) without making the process wait for it: a cloud instance started
 * while PostgreSQL is down still answers liveness, serves its console and says
 * what it waits for, and finishes its start by itself when the database comes.
 * Until then every API route answers 503 `database_unavailable` with
 * Retry-After (plugins/app/database-gate.ts).
 */
import { DatabaseUnavailableError, isDatabaseUnavailable } from './breaker.js';

export interface StartupLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StartupOptions {
  /** First wait between attempts; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export type StartupState = 'starting' | 'waiting' | 'ready' | 'failed' | 'stopped';

export class DatabaseStartup {
  #state: StartupState = 'starting';
  #attempts = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #resolve!: () => void;
  #reject!: (err: Error) => void;
  /** Resolves when the database is migrated and ready; rejects on an error that waiting will not cure, or on stop. */
  readonly whenReady: Promise<void>;
  log: StartupLog | null = null;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;

  constructor(
    private readonly init: () => Promise<void>,
    opts: StartupOptions = {},
  ) {
    this.#initialDelayMs = opts.initialDelayMs ?? 500;
    this.#maxDelayMs = opts.maxDelayMs ?? 5_000;
    this.whenReady = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting on it (a stopped startup): an unobserved rejection must not count as an unhandled one.
    this.whenReady.catch(() => undefined);
  }

  get state(): StartupState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** Attempts made so far, and why the last one failed: for /ready and the logs. */
  get attempts(): number {
    return this.#attempts;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /**
   * The first attempt. With `wait` false its failure is thrown (commands that need the database now:
   * migrate, create-admin, tests); with `wait` true a database that cannot be reached is retried in the
   * background with back-off, and only an error that is not about reaching it (a broken migration) is thrown.
   */
  async start(wait: boolean): Promise<void> {
    try {
      await this.#attempt();
    } catch (err) {
      if (!wait || !isDatabaseUnavailable(err)) {
        this.#fail(err as Error);
        throw err;
      }
      this.#state = 'waiting';
      this.#lastError = (err as Error).message;
      this.#schedule(this.#initialDelayMs);
    }
  }

  /** What a route that needs the database throws while it is not ready. */
  unavailable(): DatabaseUnavailableError {
    const delay = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** Math.max(0, this.#attempts - 1));
    return new DatabaseUnavailableError('the database is not ready yet', Math.max(1, Math.ceil(delay / 1000)));
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#state !== 'ready' && this.#state !== 'failed') {
      this.#state = 'stopped';
      this.#reject(new Error('stopped before the database was ready'));
    }
  }

  async #attempt(): Promise<void> {
    this.#attempts++;
    await this.init();
    this.#state = 'ready';
    this.#lastError = null;
    this.#resolve();
  }

  #fail(err: Error): void {
    this.#state = 'failed';
    this.#lastError = err.message;
    this.#reject(err);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#attempt().then(
        () => this.log?.info({ attempts: this.#attempts }, 'database reachable: migrated and ready'),
        (err: unknown) => {
          if (this.#state === 'stopped') return;
          if (!isDatabaseUnavailable(err)) {
            this.log?.error({ err: { message: (err as Error).message } }, 'database start failed');
            this.#fail(err as Error);
            return;
          }
          this.#lastError = (err as Error).message;
          this.#schedule(Math.min(this.#maxDelayMs, delayMs * 2));
        },
      );
    }, delayMs);
    // The HTTP server keeps the process alive; this timer alone must not.
    this.#timer.unref();
  }
}
