/**
 * The benches' floors and CPU figures (bench/load.ts) are what their ratios are read against, so they are
 * checked here: pgbench is given the statements with their values (a null written in, an array as a literal,
 * one set of variables across statements) and its per-transaction log is read; a statement PostgreSQL refuses
 * fails the run instead of reading as a fast floor; and the CPU meter counts this process's own work.
 */
import { describe, expect, it } from 'vitest';
import { cpuMeter, pgbench } from './load.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('pgbench floor (PostgreSQL)', () => {
  const base = { url: url ?? '', clients: 2, duration: 1 };

  it('runs the statements with their values and reads each transaction from its log', async () => {
    const f = await pgbench({
      ...base,
      // A null (written into the text), an array, and each statement's own $1 and $2: had any gone wrong, a statement would fail.
      // pg_sleep: pgbench's clock is lazy, and a transaction that never waits on its socket can log 0 µs.
      statements: [
        { text: 'select 1 / ($1::int - 6), pg_sleep(0.003) where $2::int is null', values: [7, null] },
        {
          text: 'select 1 / (cardinality($1::uuid[]) - 1) from generate_series(1, $2::int)',
          values: [['01a22e6a-0a08-7000-aa86-eabfffdeca6e', '01a22e6a-0a08-7000-aa86-eabfffdeca6f'], 7],
        },
      ],
    });
    expect(f).not.toBeNull();
    expect(f?.errors).toBe(0);
    expect(f?.rps).toBeGreaterThan(20);
    expect(f?.p50).toBeGreaterThan(1);
    expect(f?.p99).toBeGreaterThanOrEqual(f?.p50 ?? Number.POSITIVE_INFINITY);
  });

  it('a statement PostgreSQL refuses fails the run', async () => {
    // 1 / (6 - 6): a division by zero on every transaction.
    await expect(pgbench({ ...base, statements: [{ text: 'select 1 / ($1::int - 6)', values: [6] }] })).rejects.toThrow(/pgbench failed/);
  });

  it('a transaction of several statements is one logged transaction', async () => {
    const one = await pgbench({ ...base, statements: [{ text: 'select pg_sleep(0.02)', values: [] }] });
    const two = await pgbench({
      ...base,
      statements: [
        { text: 'select pg_sleep(0.02)', values: [] },
        { text: 'select pg_sleep(0.02)', values: [] },
      ],
      transaction: true,
    });
    expect(one?.p50).toBeGreaterThanOrEqual(20);
    expect(two?.p50).toBeGreaterThanOrEqual(40);
  });
});

describe('CPU meter', () => {
  it("counts this process's own CPU per request", () => {
    const per = cpuMeter();
    // 200 ms of this process's CPU, however loaded the machine is (spun until process.cpuUsage says so).
    const from = process.cpuUsage();
    let spin = 0;
    for (;;) {
      spin++;
      const used = process.cpuUsage(from);
      if ((used.user + used.system) / 1000 >= 200) break;
    }
    const cpu = per(2);
    expect(spin).toBeGreaterThan(0);
    expect(cpu.self).toBeGreaterThanOrEqual(100);
    expect(cpu.self).toBeLessThan(130);
    // The machine was busy at least as long as this process (/proc/stat, in ticks of 10 ms).
    expect(cpu.machine).toBeGreaterThanOrEqual(90);
    expect(cpu.postgres).toBeGreaterThanOrEqual(0);
  });
});
