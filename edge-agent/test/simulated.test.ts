import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedReader, SimulatedRelay } from '../src/hardware/simulated.js';
import type { Reader } from '../src/hardware/types.js';
import { readerContract } from './reader-contract.js';
import { tempDir } from './tmp.js';

readerContract({
  name: 'simulated',
  create: (direction) => new SimulatedReader('sim', direction),
  deliver: async (r: Reader, text) => {
    (r as SimulatedReader).inject(text);
  },
  deliverGarbage: async (r: Reader) => {
    (r as SimulatedReader).inject(Uint8Array.from([0, 1, 2, 0xff]));
  },
});

describe('simulated relay', () => {
  it('records each pulse and appends it to the log file before pulse() returns', () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'relay.log');
      const relay = new SimulatedRelay(100, file);
      relay.pulse();
      relay.pulse(250);
      expect(
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).ms),
      ).toEqual([100, 250]);
      expect(relay.active).toBe(true);
      relay.close();
      expect(relay.active).toBe(false);
      expect(relay.pulses).toHaveLength(2);
    } finally {
      t.cleanup();
    }
  });
});
