/** A real SQLITE_FULL for tests: the database capped at its size with PRAGMA max_page_count, and every table's room filled. */
import { expect } from 'vitest';
import type { EdgeStore } from '../src/store/index.js';

/** Caps the file at its size now and fills what room is left, so the next event cannot be written. */
export function fillDisk(s: EdgeStore): void {
  s.db.pragma(`max_page_count = ${s.db.pragma('page_count', { simple: true }) as number}`);
  // Every table with room left is filled (acked outbox rows are history, never sent): on a real full disk no page has room.
  const settings = s.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
  const acked = s.db.prepare('INSERT INTO outbox (id, event, acked) VALUES (?, ?, 1)');
  for (const [name, put] of [
    ['settings', settings],
    ['outbox', acked],
  ] as const)
    for (const size of [4000, 500, 50, 5]) {
      for (let i = 0; ; i++) {
        try {
          put.run(`filler-${name}-${size}-${i}`, 'x'.repeat(size));
        } catch (e) {
          expect((e as { code?: string }).code).toBe('SQLITE_FULL');
          break;
        }
      }
    }
}

/** Lifts the cap: the disk has room again. */
export const freeDisk = (s: EdgeStore) => s.db.pragma('max_page_count = 1073741823');
