/**
 * Every request gets a 2xx or a 4xx, never a 5xx, and every 4xx has the
 * contract's shape `{error: {code, message}}`. Walks EVERY route of the app
 * (`app.routeTable`), reads its params/query/body schema from the OpenAPI
 * document, builds a plausible request from a seeded topology (OrgAdmin), and
 * sends, for every string, number and array it finds, values that a database
 * or a router refuses: NUL, lone surrogates, 10k characters, max integers,
 * far dates, huge arrays, deep nesting, over-long or badly encoded path segments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login, login, seedTopology, startApp, type TestApp, uniqueEmail } from './helpers.js';

type Schema = Record<string, unknown>;
interface Op {
  parameters?: { in: string; name: string; schema: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Doc {
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, Schema> };
}

const NASTY_STRINGS: [string, string][] = [
  ['NUL', '\u0000'],
  ['NUL inside', 'a\u0000b'],
  ['lone high surrogate', 'x\ud800'],
  ['lone low surrogate', '\udfffy'],
  ['10k chars', 'é'.repeat(10_000)],
  ['far future date', '+275760-09-13T00:00:00.000Z'],
  ['year 9999', '9999-12-31T23:59:59Z'],
  ['year 0', '0000-01-01T00:00:00Z'],
  ['max int', '9223372036854775808'],
];
/** The same, as they travel in a URL (a lone surrogate has no UTF-8: its would-be bytes). */
const NASTY_URL: [string, string][] = [
  ['NUL', '%00'],
  ['NUL inside', 'a%00b'],
  ['lone surrogate bytes', '%ED%A0%80'],
  ['truncated escape', '%E0%A4%A'],
  ['invalid UTF-8', '%C0%AF'],
  ['101 chars', 'a'.repeat(101)],
  ['5k chars', 'b'.repeat(5000)],
];
const NASTY_NUMBERS: [string, number][] = [
  ['2^31', 2 ** 31],
  ['-2^31-1', -(2 ** 31) - 1],
  ['2^53', 2 ** 53],
  ['1e308', 1e308],
  ['-1e308', -1e308],
];

let t: TestApp;
let admin: Login;
let doc: Doc;
let ids: Record<string, string>;

async function post(url: string, payload: Record<string, unknown>): Promise<{ id: string; hostId?: string }> {
  const r = await t.app.inject({ method: 'POST', url, headers: admin.auth, payload });
  if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

/** Real ids by the name a schema gives them. */
function idFor(name: string): string | undefined {
  const key = name.replace(/Ids?$/, '').toLowerCase();
  return ids[key === 'accessrule' ? 'rule' : key];
}

/** The id a path parameter takes, from the collection before it. */
const COLLECTION: Record<string, string> = {
  sites: 'site',
  zones: 'zone',
  gates: 'gate',
  'access-rules': 'rule',
  users: 'user',
  hosts: 'host',
  visitors: 'visitor',
  appointments: 'appointment',
  passes: 'pass',
};

function resolve(s: Schema | undefined): Schema {
  let cur = s ?? {};
  while (typeof cur.$ref === 'string') cur = doc.components.schemas[(cur.$ref as string).split('/').pop() as string] ?? {};
  return cur;
}

function alternatives(s: Schema): Schema {
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alts) return resolve(alts.map(resolve).find((a) => a.type !== 'null') ?? alts[0]);
  return s;
}

function typeOf(s: Schema): string | undefined {
  const ty = s.type;
  if (Array.isArray(ty)) return ty.find((x) => x !== 'null') as string | undefined;
  return ty as string | undefined;
}

/** A value the schema accepts, built from seeded ids where a name says which. */
function sample(raw: Schema | undefined, name: string): unknown {
  const s = alternatives(resolve(raw));
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) out[k] = sample(v, k);
      return out;
    }
    case 'array': {
      const n = Math.max(Number(s.minItems ?? 1), 1);
      return Array.from({ length: n }, () => sample(s.items as Schema, name));
    }
    case 'integer':
    case 'number': {
      const min = Number(s.minimum ?? 1);
      return Math.min(Math.max(min, name === 'weekdays' ? 1 : min), Number(s.maximum ?? Number.MAX_SAFE_INTEGER));
    }
    case 'boolean':
      return false;
    case 'string': {
      if (s.format === 'uuid') return idFor(name) ?? '00000000-0000-7000-8000-000000000000';
      if (s.format === 'date-time') {
        const later = /to$|end|until|expires/i.test(name);
        return new Date(Date.now() + (later ? 86_400_000 : -60_000)).toISOString();
      }
      if (s.format === 'email') return uniqueEmail('hostile');
      if (name === 'timezone') return 'UTC';
      if (name === 'from') return '09:00';
      if (name === 'to') return '18:00';
      if (name === 'phone') return '+7 900 000-00-00';
      if (typeof s.pattern === 'string') return new RegExp(s.pattern).test('abc') ? 'abc' : undefined;
      return 'x'.repeat(Math.max(Number(s.minLength ?? 1), 8)).slice(0, Number(s.maxLength ?? 100));
    }
    default:
      return 'x';
  }
}

interface Leaf {
  path: (string | number)[];
  kind: 'string' | 'number' | 'array';
  element?: unknown;
}

function leaves(raw: Schema | undefined, value: unknown, path: (string | number)[] = []): Leaf[] {
  const s = alternatives(resolve(raw));
  const ty = typeOf(s);
  if (ty === 'object' && value && typeof value === 'object') {
    return Object.entries((s.properties ?? {}) as Record<string, Schema>).flatMap(([k, v]) =>
      leaves(v, (value as Record<string, unknown>)[k], [...path, k]),
    );
  }
  if (ty === 'array' && Array.isArray(value))
    return [{ path, kind: 'array', element: value[0] ?? 'x' }, ...leaves(s.items as Schema, value[0], [...path, 0])];
  if (ty === 'string') return [{ path, kind: 'string' }];
  if (ty === 'integer' || ty === 'number') return [{ path, kind: 'number' }];
  return [];
}

function withValue(base: unknown, path: (string | number)[], v: unknown): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  if (path.length === 0) return v;
  cur[path[path.length - 1] as string | number] = v;
  return copy;
}

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function fillParams(url: string, override?: { name: string; raw: string }): string {
  return url.replace(/(\/?)([^/]*)\/:([A-Za-z0-9_]+)/g, (_m, slash: string, collection: string, name: string) => {
    const real = ids[COLLECTION[collection] ?? name] ?? '00000000-0000-7000-8000-000000000000';
    const v = override?.name === name ? override.raw : real;
    return `${slash}${collection}/${v}`;
  });
}

describe('hostile input: never a 5xx, every 4xx in the contract shape', () => {
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Hostile Org', ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    const host = await post('/api/admin/users', { email: uniqueEmail('host'), fullName: 'Host', roles: ['Host'] });
    const appointment = await post('/api/admin/appointments', {
      hostId: host.hostId as string,
      visitorIds: [topo.visitor.id],
      startsAt: new Date(Date.now() + 3600_000).toISOString(),
      endsAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    const pass = await post('/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
    });
    ids = {
      site: topo.site.id,
      zone: topo.zone.id,
      gate: topo.gate.id,
      rule: topo.rule.id,
      visitor: topo.visitor.id,
      user: host.id,
      host: host.hostId as string,
      appointment: appointment.id,
      pass: pass.id,
    };
    doc = (await t.app.inject('/docs/json')).json() as Doc;
  }, 120_000);
  afterAll(async () => t?.close());

  it('walks every route with nasty params, query strings and bodies', async () => {
    const failures: string[] = [];
    let sent = 0;
    const check = async (method: string, url: string, what: string, payload?: unknown, raw?: string) => {
      sent++;
      const res = await t.app.inject({
        method: method as 'GET',
        url,
        headers: { ...admin.auth, ...(raw !== undefined || payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(raw !== undefined ? { payload: raw } : payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
      const label = `${method} ${url.length > 90 ? `${url.slice(0, 90)}…` : url} ${what}`;
      if (res.statusCode >= 500) failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 160)}`);
      else if (res.statusCode >= 400) {
        let body: { error?: { code?: unknown; message?: unknown } } | null = null;
        try {
          body = res.json();
        } catch {}
        if (typeof body?.error?.code !== 'string' || typeof body.error.message !== 'string')
          failures.push(`${label}: ${res.statusCode} not in the contract's shape: ${res.body.slice(0, 160)}`);
      }
      // A request that signed the admin out (logout, a password change) would blind the rest of the walk.
      if (res.statusCode === 401 && !url.startsWith('/api/auth')) admin = await login(t.app, admin.email, admin.password);
    };

    // Auth routes last: they may end the session the walk uses.
    const routes = [...t.app.routeTable]
      .filter((r) => r.method !== 'OPTIONS' && !r.url.startsWith('/docs') && r.url !== '*' && !r.url.includes('*'))
      .sort((a, b) => Number(a.url.startsWith('/api/auth')) - Number(b.url.startsWith('/api/auth')));
    expect(routes.length).toBeGreaterThanOrEqual(50);
    for (const r of routes) {
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      // Path parameters: every one of them, over-long or badly encoded.
      for (const name of r.url.match(/:([A-Za-z0-9_]+)/g) ?? [])
        for (const [label, raw] of NASTY_URL)
          await check(
            r.method,
            fillParams(r.url, { name: name.slice(1), raw }),
            `param ${name}=${label}`,
            r.method === 'GET' ? undefined : {},
          );
      // Destructive routes only get refused ids: the walk keeps its seeded targets.
      if (r.method === 'DELETE') continue;
      const url = fillParams(r.url);
      // Query strings.
      for (const p of op?.parameters ?? []) {
        if (p.in !== 'query') continue;
        const s = alternatives(resolve(p.schema));
        const kinds = typeOf(s) === 'string' ? NASTY_URL : NASTY_NUMBERS.map(([l, n]): [string, string] => [l, String(n)]);
        for (const [label, raw] of kinds) await check(r.method, `${url}?${p.name}=${raw}`, `query ${p.name}=${label}`);
      }
      // Bodies.
      const bodySchema = op?.requestBody?.content?.['application/json']?.schema;
      if (!bodySchema && r.method === 'GET') continue;
      const base = bodySchema ? sample(bodySchema, '') : {};
      await check(r.method, url, 'deep nesting', undefined, `{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
      await check(r.method, url, 'NUL key', undefined, '{"\\u0000":1}');
      for (const leaf of leaves(bodySchema, base)) {
        const where = `body ${leaf.path.join('.') || '(root)'}`;
        if (leaf.kind === 'string')
          for (const [label, v] of NASTY_STRINGS) await check(r.method, url, `${where}=${label}`, withValue(base, leaf.path, v));
        if (leaf.kind === 'number')
          for (const [label, v] of NASTY_NUMBERS) await check(r.method, url, `${where}=${label}`, withValue(base, leaf.path, v));
        if (leaf.kind === 'array')
          await check(r.method, url, `${where}=20k items`, withValue(base, leaf.path, Array(20_000).fill(leaf.element)));
      }
    }
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);
});
