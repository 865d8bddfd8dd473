/**
 * An example value for a JSON schema, for the OpenAPI document: a schema's own
 * `examples[0]` wins (the shared schemas of modules/<name>/schema.ts carry
 * hand-written ones), else one is composed from its parts' examples, defaults,
 * consts, enums and formats. Deterministic, so the generated client and the
 * document do not change from one build to the next; the docs test checks
 * every example against its schema.
 */

type Schema = Record<string, unknown>;

/** The ids and times the hand-written examples share, so one example's references match another's. */
export const EX = {
  org: '01936b2e-0a00-7000-8000-000000000001',
  site: '01936b2e-0a00-7000-8000-000000000002',
  zone: '01936b2e-0a00-7000-8000-000000000003',
  gate: '01936b2e-0a00-7000-8000-000000000004',
  rule: '01936b2e-0a00-7000-8000-000000000005',
  visitor: '01936b2e-0a00-7000-8000-000000000006',
  pass: '01936b2e-0a00-7000-8000-000000000007',
  user: '01936b2e-0a00-7000-8000-000000000008',
  created: '2026-03-01T12:00:00.000Z',
  from: '2026-03-02T09:00:00.000Z',
  to: '2026-03-02T18:00:00.000Z',
} as const;

/** Strings some shared schemas constrain by pattern, with a value that matches. */
const BY_PATTERN: Record<string, string> = {
  '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': '0193a5b2-7c1e-7d3f-8a10-5b2c3d4e5f60',
  '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$': '09:00',
  '^[0-9]{1,20}$': '4100123456',
  '^[0-9+() .-]+$': '+44 20 7946 0000',
  '^[A-Za-z0-9+/]{43}=$': 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=',
  '^[A-Za-z0-9_.:-]+$': 'gate-1',
  '^[A-Za-z0-9_-]{1,64}$': 'edge-1',
  '^[A-Z2-7]{16,128}$': 'JBSWY3DPEHPK3PXP',
  '^whsec_[A-Za-z0-9+/]+=*$': 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  '^[0-9]{6}$': '123456',
  '^#[0-9a-fA-F]{6}$': '#1f6feb',
  '^\\d{4}-\\d{2}-\\d{2}$': '2026-03-02',
  '^[0-9A-F]{4}(-[0-9A-F]{4}){15}$': '3F2A-91C0-7B4E-0D18-A5C6-22E9-8F01-B7D3-4C5A-6E7F-1029-3B4C-5D6E-7F80-91A2-B3C4',
  '^https://[^\\s]+$': 'https://example.com/logo.png',
  '^https://': 'https://push.example.com/send/abc123',
};

const BY_FORMAT: Record<string, string> = {
  uuid: '0193a5b2-7c1e-7d3f-8a10-5b2c3d4e5f60',
  'date-time': '2026-03-02T09:00:00.000Z',
  date: '2026-03-02',
  email: 'ada@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
};

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An example for `schema`, or undefined when none can be made (a `$ref` to a shared schema keeps its own). */
export function exampleOf(schema: unknown, depth = 0): unknown {
  if (!isObject(schema) || depth > 12) return undefined;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if ('example' in schema) return schema.example;
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const branches = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(branches)) {
    // A nullable value shows its non-null form: the example says what the field holds when it holds something.
    const branch = branches.find((b) => isObject(b) && b.type !== 'null') ?? branches[0];
    return exampleOf(branch, depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...schema.allOf.map((s) => exampleOf(s, depth + 1)).filter(isObject));
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries((schema.properties as Schema | undefined) ?? {})) {
        const v = exampleOf(prop, depth + 1);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case 'array': {
      const item = exampleOf(schema.items, depth + 1);
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      return item === undefined ? [] : Array.from({ length: Math.max(1, min) }, () => item);
    }
    case 'string': {
      if (typeof schema.pattern === 'string' && BY_PATTERN[schema.pattern]) return BY_PATTERN[schema.pattern];
      if (typeof schema.format === 'string' && BY_FORMAT[schema.format]) return BY_FORMAT[schema.format];
      const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
      const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
      return 'example'.padEnd(min, 'x').slice(0, max);
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return undefined;
  }
}
