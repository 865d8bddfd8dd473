import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOWN_KINDS, parseTopic, topics, UP_KINDS } from '../src/index.js';

describe('topics (SPEC TOPIC-*)', () => {
  it('TOPIC-1, TOPIC-5: builds every topic of the table, and the filters the cloud subscribes with', () => {
    expect(topics.events('dev-1')).toBe('gh/v1/dev/dev-1/up/events');
    expect(topics.status('dev-1')).toBe('gh/v1/dev/dev-1/up/status');
    expect(topics.syncRequest('dev-1')).toBe('gh/v1/dev/dev-1/up/sync-request');
    expect(topics.sync('dev-1')).toBe('gh/v1/dev/dev-1/down/sync');
    expect(topics.ack('dev-1')).toBe('gh/v1/dev/dev-1/down/ack');
    expect(topics.cmd('dev-1')).toBe('gh/v1/dev/dev-1/down/cmd');
    expect(topics.deviceFilter('dev-1')).toBe('gh/v1/dev/dev-1/#');
    expect(topics.downFilter('dev-1')).toBe('gh/v1/dev/dev-1/down/+');
    expect(topics.allUp('events', 'ingest')).toBe('$share/ingest/gh/v1/dev/+/up/events');
    expect(topics.allUp('status')).toBe('gh/v1/dev/+/up/status');
  });

  it('TOPIC-1, TOPIC-3: round-trips every kind of the table through the parser', () => {
    for (const kind of UP_KINDS) expect(parseTopic(`gh/v1/dev/A_b-9/up/${kind}`)).toEqual({ deviceId: 'A_b-9', direction: 'up', kind });
    for (const kind of DOWN_KINDS) expect(parseTopic(`gh/v1/dev/x/down/${kind}`)).toEqual({ deviceId: 'x', direction: 'down', kind });
  });

  it('TOPIC-2: refuses to build a topic for a device id with wildcards or separators', () => {
    for (const bad of ['', '+', '#', 'a/b', 'a b', 'x'.repeat(65), 'é']) {
      expect(() => topics.events(bad)).toThrow(TypeError);
      expect(() => topics.downFilter(bad)).toThrow(TypeError);
    }
  });

  it.each([
    'gh/v1/dev/dev-1/up/cmd', // a down kind on the up side
    'gh/v1/dev/dev-1/down/events',
    'gh/v1/dev/dev-1/up/events/extra',
    'gh/v2/dev/dev-1/up/events',
    'gh/v1/device/dev-1/up/events',
    'gh/v1/dev/+/up/events',
    'gh/v1/dev/#',
    'gh/v1/dev//up/events',
    '/gh/v1/dev/dev-1/up/events',
    'GH/V1/dev/dev-1/up/events',
    '',
  ])('TOPIC-3: rejects %j', (t) => {
    expect(parseTopic(t)).toBeNull();
  });

  it('TOPIC-3: never throws and never guesses on random strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.constantFrom('gh', 'v1', 'dev', 'up', 'down', 'events', 'cmd', 'x', '+', '')).map((a) => a.join('/')),
        ),
        (s) => {
          const r = parseTopic(s);
          if (r) expect(topics[r.kind === 'sync-request' ? 'syncRequest' : r.kind](r.deviceId)).toBe(s);
        },
      ),
      { numRuns: 2000 },
    );
    expect(parseTopic(42)).toBeNull();
    expect(parseTopic(null)).toBeNull();
  });
});
