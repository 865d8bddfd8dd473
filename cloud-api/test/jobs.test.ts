/**
 * The background job queue (jobs/queue.ts on pg-boss) and what is built around it: retries with
 * growing delays then the dead-letter state, transactional send, exactly-once delivery across two
 * queues on one PostgreSQL database, delayed jobs and cancel, the admin routes of dead jobs (per
 * organisation, ids only, retry audited), /metrics, readiness, the daily cleanup and a stop that
 * does not hang. Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JobsConfig } from '../src/config.js';
import type { Executor } from '../src/db/client.js';
import { auditLogs, guestCodes, loginThrottle, telegramLinkCodes } from '../src/db/schema.js';
import { CLEANUP_CRON, CLEANUP_QUEUE } from '../src/jobs/cleanup.js';
import { type Attempt, JobQueue } from '../src/jobs/queue.js';
import { NO_ORG } from '../src/lib/audit.js';
import { createOrgWithUser, issuePass, type Login, onPostgres, seedTopology, startApp, type TestApp, until } from './helpers.js';

const JOBS: JobsConfig = { retryLimit: 2, retryDelayS: 1, pollIntervalS: 0.5, work: true };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Jobs wait out retry delays and polls: a generous bound on each wait. */
const JOB_WAIT = 30_000;

let t: TestApp;
let a: Login;
let b: Login;

async function jobState(id: string, db: Executor = t.app.ctx.db): Promise<string | null> {
  const r = (await db.execute(sql`select state from pgboss.job where id = ${id}`)) as unknown as {
    rows: Array<{ state: string }>;
  };
  return r.rows[0]?.state ?? null;
}

/** One metric line's value (`name{queue="q"} v`), or null when the series is absent. */
function metric(text: string, name: string, queue: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{queue="${queue}"} `));
  return line ? Number(line.split(' ').at(-1)) : null;
}

// A fresh database (migrations on PGlite) can take long on a busy machine; the queue's own waits are short.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 240_000 });

beforeAll(async () => {
  t = await startApp({ jobs: JOBS });
  a = await createOrgWithUser(t.app, 'Jobs A', ['OrgAdmin']);
  b = await createOrgWithUser(t.app, 'Jobs B', ['OrgAdmin']);
});
afterAll(async () => {
  await t?.close();
});

describe(`job queue (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('retries a throwing handler with growing delays, then the job is dead and listed with its error', async () => {
    const runs: Array<{ at: number; attempt: Attempt }> = [];
    await t.app.ctx.jobs.define('test.flaky', async (_data, attempt) => {
      runs.push({ at: Date.now(), attempt });
      throw new Error('always broken');
    });
    const id = await t.app.ctx.jobs.send('test.flaky', { orgId: a.orgId });
    expect(id).toBeTruthy();
    await until(async () => (await jobState(id!)) === 'failed', 'the job to die', JOB_WAIT);
    // retryLimit 2: three attempts, the last one told it is final.
    expect(runs.map((r) => [r.attempt.attempt, r.attempt.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    // Backoff of 1 s doubling: the first retry waits at least 1 s, the second at least 2 s.
    const gap1 = runs[1]!.at - runs[0]!.at;
    const gap2 = runs[2]!.at - runs[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(950);
    expect(gap2).toBeGreaterThanOrEqual(1950);
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/dead', headers: a.auth });
    expect(list.statusCode).toBe(200);
    const item = (list.json() as { items: Array<Record<string, unknown>> }).items.find((j) => j.id === id);
    expect(item).toMatchObject({ queue: 'test.flaky', attempts: 3, error: 'always broken' });
    expect(item?.failedAt).toEqual(expect.any(String));
  });

  it('a job sent in a rolled-back transaction never runs; a committed one does', async () => {
    const seen: string[] = [];
    await t.app.ctx.jobs.define<{ orgId: string; tag: string }>('test.tx', async (data) => {
      seen.push(data.tag);
    });
    let rolledId: string | null = null;
    await expect(
      t.app.ctx.db.transaction(async (tx) => {
        rolledId = await t.app.ctx.jobs.send('test.tx', { orgId: a.orgId, tag: 'rolled back' }, { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(rolledId).toBeTruthy();
    const committedId = await t.app.ctx.db.transaction(async (tx) =>
      t.app.ctx.jobs.send('test.tx', { orgId: a.orgId, tag: 'committed' }, { tx }),
    );
    await until(() => seen.includes('committed'), 'the committed job', JOB_WAIT);
    // pg-boss marks the job completed just after its handler returns: wait for that, do not race it.
    await until(async () => (await jobState(committedId!)) === 'completed', 'the committed job to complete', JOB_WAIT);
    // The rolled-back job does not exist at all, so no worker can ever take it.
    expect(await jobState(rolledId!)).toBeNull();
    await sleep(1_200);
    expect(seen).toEqual(['committed']);
  });

  it('complete(…, tx) finishes a running job with the handler’s own transaction: rolled back, the job is still running', async () => {
    const states: Array<string | null> = [];
    let round = 0;
    await t.app.ctx.jobs.define<{ orgId: string }>('test.complete', async (_data, attempt) => {
      round++;
      // The first attempt completes in a transaction it then rolls back: the job must still be active.
      await t.app.ctx.db
        .transaction(async (tx) => {
          await t.app.ctx.jobs.complete('test.complete', attempt.id, tx);
          states.push(await jobState(attempt.id, tx));
          if (round === 1) throw new Error('rolled back');
        })
        .catch(() => undefined);
      states.push(await jobState(attempt.id));
    });
    const id = await t.app.ctx.jobs.send('test.complete', { orgId: a.orgId });
    await until(() => states.length >= 2, 'the handler', JOB_WAIT);
    // Inside the transaction it is completed; after the rollback, still the worker's.
    expect(states).toEqual(['completed', 'active']);
    await until(async () => (await jobState(id!)) === 'completed', 'pg-boss to complete it', JOB_WAIT);
  });

  it('startAfter far ahead waits, a near one runs no earlier, and cancel stops a waiting job', async () => {
    const ran = new Map<string, number>();
    await t.app.ctx.jobs.define<{ orgId: string; key: string }>('test.later', async (data) => {
      ran.set(data.key, Date.now());
    });
    const far = await t.app.ctx.jobs.send(
      'test.later',
      { orgId: a.orgId, key: 'far' },
      { startAfter: new Date(Date.now() + 30 * 86_400_000) },
    );
    const notBefore = Date.now() + 1_500;
    await t.app.ctx.jobs.send('test.later', { orgId: a.orgId, key: 'near' }, { startAfter: new Date(notBefore) });
    const stats = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/stats', headers: a.auth });
    expect(stats.statusCode).toBe(200);
    const later = (stats.json() as { queues: Array<Record<string, number | string>> }).queues.find((q) => q.queue === 'test.later');
    expect(later).toMatchObject({ scheduled: 2, depth: 0, dead: 0 });
    await until(() => ran.has('near'), 'the near job', JOB_WAIT);
    expect(ran.get('near')!).toBeGreaterThanOrEqual(notBefore - 50);
    expect(await jobState(far!)).toBe('created');
    await t.app.ctx.jobs.cancel('test.later', far!);
    expect(await jobState(far!)).toBe('cancelled');
    expect(ran.has('far')).toBe(false);
  });

  it('dead jobs are per organisation, show ids only, and a retry from the API runs the job again', async () => {
    let broken = true;
    const runs: string[] = [];
    await t.app.ctx.jobs.define<{ orgId: string; id: string; email: string }>(
      'test.mail',
      async (data) => {
        runs.push(data.id);
        if (broken) throw new Error(`550 no such mailbox ${data.email}`);
      },
      { retryLimit: 0 },
    );
    const messageId = randomUUID();
    const jobId = await t.app.ctx.jobs.send('test.mail', { orgId: a.orgId, id: messageId, email: 'olga.secret@example.test' });
    await until(async () => (await jobState(jobId!)) === 'failed', 'the mail job to die', JOB_WAIT);

    const listA = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/dead', headers: a.auth });
    expect(listA.statusCode).toBe(200);
    const item = (listA.json() as { items: Array<Record<string, unknown>> }).items.find((j) => j.id === jobId);
    expect(item).toMatchObject({ queue: 'test.mail', attempts: 1, refs: { id: messageId } });
    // Neither the job's data nor the address in its error reach the answer.
    expect(listA.body).not.toContain('olga.secret');
    expect(item).not.toHaveProperty('data');
    expect(String(item?.error)).toContain('550 no such mailbox');

    // Organisation B sees none of it and cannot retry it; an unknown id is as absent.
    const listB = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/dead', headers: b.auth });
    expect((listB.json() as { items: Array<{ id: string }> }).items.map((j) => j.id)).not.toContain(jobId);
    const statsB = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/stats', headers: b.auth });
    expect((statsB.json() as { queues: Array<{ queue: string; dead: number }> }).queues.find((q) => q.queue === 'test.mail')?.dead).toBe(0);
    const statsA = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/stats', headers: a.auth });
    expect((statsA.json() as { queues: Array<{ queue: string; dead: number }> }).queues.find((q) => q.queue === 'test.mail')?.dead).toBe(1);
    expect((await t.app.inject({ method: 'POST', url: `/api/admin/jobs/dead/${jobId}/retry`, headers: b.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: `/api/admin/jobs/dead/${randomUUID()}/retry`, headers: a.auth })).statusCode).toBe(
      404,
    );
    expect(await jobState(jobId!)).toBe('failed');
    expect(runs).toHaveLength(1);

    // Fixed, then retried by A's admin: it runs again, succeeds, and the retry is on record.
    broken = false;
    const retry = await t.app.inject({ method: 'POST', url: `/api/admin/jobs/dead/${jobId}/retry`, headers: a.auth });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ id: jobId, queue: 'test.mail', state: 'retry' });
    await until(async () => (await jobState(jobId!)) === 'completed', 'the retried job to complete', JOB_WAIT);
    expect(runs).toEqual([messageId, messageId]);
    const audit = await t.app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.orgId, a.orgId), eq(auditLogs.action, 'job.retry'), eq(auditLogs.entityId, jobId!)));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actorId).toBe(a.userId);
    expect(JSON.stringify(audit[0]!.data)).not.toContain('olga.secret');
    // Retried and done: no longer dead, so a second retry finds nothing.
    expect((await t.app.inject({ method: 'POST', url: `/api/admin/jobs/dead/${jobId}/retry`, headers: a.auth })).statusCode).toBe(404);
  });

  it('a dead job retried with a fresh set of attempts gets all of them again', async () => {
    const attempts: number[] = [];
    await t.app.ctx.jobs.define(
      'test.again',
      async (_d, attempt) => {
        attempts.push(attempt.attempt);
        throw new Error('still broken');
      },
      { retryLimit: 1 },
    );
    const id = await t.app.ctx.jobs.send('test.again', { orgId: a.orgId });
    await until(async () => (await jobState(id!)) === 'failed', 'death', JOB_WAIT);
    expect(await t.app.ctx.jobs.retryDead(a.orgId, id!)).not.toBeNull();
    await until(async () => attempts.length === 4 && (await jobState(id!)) === 'failed', 'death again', JOB_WAIT);
    expect(attempts).toEqual([1, 2, 1, 2]);
  });

  it('/metrics carries depth, oldest age, dead and failures per queue, from one cached query per scrape storm', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    await t.app.ctx.jobs.define('test.blocked', async () => {
      started++;
      await gate;
    });
    await t.app.ctx.jobs.define(
      'test.broken',
      async () => {
        throw new Error('broken');
      },
      { retryLimit: 0 },
    );
    const broken = [
      await t.app.ctx.jobs.send('test.broken', { orgId: a.orgId }),
      await t.app.ctx.jobs.send('test.broken', { orgId: b.orgId }),
    ];
    for (let i = 0; i < 4; i++) await t.app.ctx.jobs.send('test.blocked', { orgId: a.orgId });
    // One runs (and blocks the queue's only worker); three wait.
    await until(() => started === 1, 'the first blocked job', JOB_WAIT);
    for (const id of broken) await until(async () => (await jobState(id!)) === 'failed', 'death', JOB_WAIT);
    await sleep(1_100);

    const stats = vi.spyOn(t.app.ctx.jobs, 'stats');
    const scrapes = await Promise.all(Array.from({ length: 10 }, () => t.app.inject('/metrics')));
    expect(stats).toHaveBeenCalledTimes(1);
    stats.mockRestore();
    const text = scrapes[0]!.body;
    const jobLines = (body: string) => body.split('\n').filter((l) => l.startsWith('gatehouse_jobs_'));
    expect(scrapes.every((s) => s.statusCode === 200 && jobLines(s.body).join() === jobLines(text).join())).toBe(true);
    expect(metric(text, 'gatehouse_jobs_depth', 'test.blocked')).toBe(3);
    const age = metric(text, 'gatehouse_jobs_oldest_age_seconds', 'test.blocked')!;
    expect(age).toBeGreaterThanOrEqual(1);
    expect(age).toBeLessThan(60);
    // Metrics count every organisation's jobs.
    expect(metric(text, 'gatehouse_jobs_dead', 'test.broken')).toBe(2);
    expect(metric(text, 'gatehouse_jobs_failures_total', 'test.broken')).toBe(2);
    expect(metric(text, 'gatehouse_jobs_depth', 'test.broken')).toBe(0);
    expect(metric(text, 'gatehouse_jobs_failures_total', 'test.blocked')).toBe(0);
    // test.flaky of the first test failed three times.
    expect(metric(text, 'gatehouse_jobs_failures_total', 'test.flaky')).toBe(3);
    expect(metric(text, 'gatehouse_jobs_dead', 'test.flaky')).toBe(1);

    release();
    await until(() => started === 4, 'the blocked queue to drain', JOB_WAIT);
  });

  it('readiness reports the queue', async () => {
    const r = await t.app.inject('/api/internal/ready');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ready', database: onPostgres ? 'postgres' : 'pglite', jobs: 'started' });
  });

  it('cleanup.expired is scheduled daily and deletes expired codes and throttle rows only', async () => {
    const r = (await t.app.ctx.db.execute(sql`select cron, data from pgboss.schedule where name = ${CLEANUP_QUEUE}`)) as unknown as {
      rows: Array<{ cron: string; data: { orgId: string } }>;
    };
    expect(r.rows).toEqual([{ cron: CLEANUP_CRON, data: { orgId: NO_ORG } }]);

    const { db } = t.app.ctx;
    const topo = await seedTopology(t.app, a);
    const passOld = await issuePass(t.app, a, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const passNew = await issuePass(t.app, a, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 600_000);
    const code = (passId: string, expiresAt: Date) => ({
      passId,
      orgId: a.orgId,
      codeHash: randomUUID(),
      channel: 'email' as const,
      sentToMasked: 'o***@example.test',
      expiresAt,
    });
    await db.insert(guestCodes).values([code(passOld.id, past), code(passNew.id, future)]);
    await db.insert(telegramLinkCodes).values([
      { codeHash: 'tg-old', orgId: a.orgId, userId: a.userId, expiresAt: past },
      { codeHash: 'tg-new', orgId: a.orgId, userId: a.userId, expiresAt: future },
    ]);
    await db.insert(loginThrottle).values([
      { key: 'jobs-test-old', hits: 3, expiresAt: past },
      { key: 'jobs-test-new', hits: 3, expiresAt: future },
    ]);
    const id = await t.app.ctx.jobs.send(CLEANUP_QUEUE, { orgId: NO_ORG });
    await until(async () => (await jobState(id!)) === 'completed', 'the cleanup', JOB_WAIT);
    expect((await db.select({ p: guestCodes.passId }).from(guestCodes)).map((x) => x.p)).toEqual([passNew.id]);
    expect((await db.select({ c: telegramLinkCodes.codeHash }).from(telegramLinkCodes)).map((x) => x.c)).toEqual(['tg-new']);
    const keys = (await db.select({ k: loginThrottle.key }).from(loginThrottle)).map((x) => x.k);
    expect(keys).toContain('jobs-test-new');
    expect(keys).not.toContain('jobs-test-old');
    // A platform job is no organisation's: not in A's dead list or stats.
    const stats = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/stats', headers: a.auth });
    expect((stats.json() as { queues: Array<{ queue: string }> }).queues.map((q) => q.queue)).toContain(CLEANUP_QUEUE);
  });

  it('stop() returns within its timeout while a handler still runs, and the job goes back to be retried', async () => {
    const q = new JobQueue(t.db.database, JOBS);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let running = false;
    await q.define('test.hang', async () => {
      running = true;
      await gate;
    });
    await q.start();
    const id = await q.send('test.hang', { orgId: a.orgId });
    await until(() => running, 'the handler to start', JOB_WAIT);
    const t0 = Date.now();
    await q.stop(1_000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5_000);
    expect(q.started).toBe(false);
    // Failed as work in progress: waiting for another attempt, not stuck as active.
    expect(await jobState(id!)).toBe('retry');
    release();
  });

  it.skipIf(!onPostgres)('two queues on one PostgreSQL database run each of 200 jobs exactly once, together faster than one', async () => {
    const N = 200;
    const runs = new Map<string, number>();
    const by = { A: 0, B: 0 };
    const handler = (who: 'A' | 'B') => async (data: { orgId: string; n: string }) => {
      runs.set(data.n, (runs.get(data.n) ?? 0) + 1);
      by[who]++;
      await sleep(10);
    };
    const qa = new JobQueue(t.db.database, JOBS);
    const qb = new JobQueue(t.db.database, JOBS);
    await qa.define('test.parallel', handler('A'));
    await qb.define('test.parallel', handler('B'));
    const drain = async (tag: string) => {
      const t0 = Date.now();
      await Promise.all(Array.from({ length: N }, (_, i) => qa.send('test.parallel', { orgId: a.orgId, n: `${tag}-${i}` })));
      await until(() => [...runs.keys()].filter((k) => k.startsWith(`${tag}-`)).length === N, `${tag} drained`, JOB_WAIT);
      return Date.now() - t0;
    };
    try {
      await qa.start();
      const alone = await drain('one');
      expect(by.B).toBe(0);
      await qb.start();
      const before = { ...by };
      const together = await drain('two');
      expect(by.A - before.A).toBeGreaterThan(0);
      expect(by.B - before.B).toBeGreaterThan(0);
      expect(together).toBeLessThan(alone);
      // Let any duplicate show itself before counting.
      await sleep(700);
      expect(runs.size).toBe(2 * N);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await qa.stop(1_000);
      await qb.stop(1_000);
    }
  });
});
