/**
 * The OpenAPI document says what each route really answers: its error
 * statuses one by one (each with the shared ErrorResponse and a description),
 * who may call it (a JWT; on /api/admin an API key too; public routes
 * nothing), and an example of every request body and success answer that
 * matches its schema. A few routes are driven into every status they document.
 */
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, testConfig, UNTHROTTLED } from './helpers.js';

const ERROR_REF = '#/components/schemas/ErrorResponse';
/** Answers ≥ 400 with a body of their own, documented as such. */
const OWN_ERROR_BODIES = new Set(['get /api/internal/ready 503']);
const METHODS = new Set(['get', 'put', 'post', 'patch', 'delete']);

interface Media {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, unknown>> };
}

// A trailing wildcard (`/files/*`, a release file's path) is the parameter `{*}` in the document.
const toDocPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{*}');

describe('OpenAPI document', () => {
  let t: TestApp;
  let admin: Login;
  let doc: OpenApiDoc;
  let operations: { path: string; method: string; op: Operation }[];
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'OpenAPI Org', ['OrgAdmin']);
    const res = await t.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    doc = res.json() as OpenApiDoc;
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.has(method))
        .map(([method, op]) => ({ path, method, op })),
    );
  });
  afterAll(async () => t?.close());

  it('every route lists its error statuses, each with the shared error schema and a description', () => {
    expect(doc.components.schemas.ErrorResponse).toMatchObject({
      type: 'object',
      required: ['error'],
      properties: { error: { type: 'object', required: ['code', 'message'] } },
    });
    expect(operations.length).toBeGreaterThanOrEqual(80);
    const permissionOf = new Map(t.app.routeTable.map((r) => [`${r.method.toLowerCase()} ${toDocPath(r.url)}`, r.permission]));
    const missing: string[] = [];
    for (const { path, method, op } of operations) {
      const at = `${method} ${path}`;
      const responses = op.responses ?? {};
      const need = (status: string, why: string) => {
        if (!responses[status]) missing.push(`${at}: no ${status} (${why})`);
      };
      if (!Object.keys(responses).some((s) => /^2/.test(s))) missing.push(`${at}: no success answer`);
      need('429', 'every route is rate limited');
      need('5XX', 'every route can fail');
      if (op.requestBody || op.parameters?.length) need('400', 'it takes input');
      if (op.security?.length) need('401', 'it is guarded');
      if (permissionOf.get(at)) need('403', `it requires ${permissionOf.get(at)}`);
      if (op.parameters?.some((p) => p.in === 'path' && (p.name === 'id' || p.name.endsWith('Id')))) need('404', 'it names a record');
      if (responses['4XX'] || responses['4xx']) missing.push(`${at}: a catch-all 4XX instead of its statuses`);
      for (const [status, answer] of Object.entries(responses)) {
        if (!/^[45]/.test(status) || OWN_ERROR_BODIES.has(`${at} ${status}`)) continue;
        const schema = answer.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (schema?.$ref !== ERROR_REF) missing.push(`${at} ${status}: ${JSON.stringify(schema)}`);
        if (!answer.description || answer.description === 'Default Response') missing.push(`${at} ${status}: no description`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('guarded routes take the JWT, and on /api/admin an API key too; public routes need nothing', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      apiKey: { type: 'http', scheme: 'bearer' },
    });
    const guarded = new Set(t.app.routeTable.filter((r) => r.permission).map((r) => `${r.method.toLowerCase()} ${toDocPath(r.url)}`));
    const wrong: string[] = [];
    for (const { path, method, op } of operations) {
      const at = `${method} ${path}`;
      const schemes = (op.security ?? []).map((s) => Object.keys(s).join('+')).sort();
      if (guarded.has(at)) {
        const want = path.startsWith('/api/admin/') ? ['apiKey', 'bearer'] : ['bearer'];
        if (JSON.stringify(schemes) !== JSON.stringify(want)) wrong.push(`${at}: ${schemes.join(', ')}`);
      } else if (schemes.some((s) => s === 'apiKey')) wrong.push(`${at}: takes an API key`);
    }
    expect(wrong).toEqual([]);
    expect(doc.paths['/api/auth/login']?.post?.security).toEqual([]);
    expect(doc.paths['/api/auth/me']?.get?.security).toEqual([{ bearer: [] }]);
  });

  it('every request body and JSON success answer has an example, and it matches its schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: false });
    // A CommonJS module: under NodeNext its default export is the module, whose `default` is the plugin.
    formats.default(ajv);
    // The document's shared schemas, so the examples' `$ref`s resolve.
    ajv.addSchema({ components: doc.components }, 'doc');
    const resolve = (schema: Record<string, unknown> | undefined) =>
      schema && typeof schema.$ref === 'string'
        ? (doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] as Record<string, unknown>)
        : schema;
    const problems: string[] = [];
    const check = (at: string, media: Media | undefined) => {
      if (!media?.schema) return;
      const schema = resolve(media.schema);
      const example =
        media.example ?? Object.values(media.examples ?? {})[0]?.value ?? (schema as { example?: unknown } | undefined)?.example;
      if (example === undefined) return void problems.push(`${at}: no example`);
      const validate = ajv.compile(JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components/', '"doc#/components/')));
      if (!validate(example)) problems.push(`${at}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(example)}`);
    };
    for (const { path, method, op } of operations) {
      check(`${method} ${path} body`, op.requestBody?.content?.['application/json']);
      for (const [status, answer] of Object.entries(op.responses ?? {}))
        if (/^2/.test(status)) check(`${method} ${path} ${status}`, answer.content?.['application/json']);
    }
    expect(problems).toEqual([]);
  });

  it('error answers keep their contract shape through the declared schema', async () => {
    const nf = await t.app.inject({ method: 'GET', url: '/api/admin/sites/00000000-0000-7000-8000-000000000000', headers: admin.auth });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ error: { code: 'not_found', message: 'site not found' } });
    const invalid = await t.app.inject({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { name: '' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toEqual({ error: { code: 'validation', message: expect.any(String) } });
    const unauth = await t.app.inject({ method: 'GET', url: '/api/auth/me' });
    expect(unauth.json()).toEqual({ error: { code: 'unauthorized', message: 'authentication required' } });
  });

  it('a few routes answer exactly the statuses they document', async () => {
    const documented = (path: string, method: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses ?? {})
        .filter((s) => s !== '5XX')
        .sort();
    const viewer = await createOrgWithUser(t.app, 'OpenAPI no-role org', []);
    const { site } = await seedTopology(t.app, admin);
    const empty = await t.app.inject({
      method: 'POST',
      url: '/api/admin/sites',
      headers: admin.auth,
      payload: { name: 'Empty', timezone: 'UTC' },
    });
    const emptyId = (empty.json() as { id: string }).id;
    const nobody = '00000000-0000-7000-8000-000000000000';
    // A second app on the same database and keys with a small request limit, to reach 429.
    const limited = await buildApp(testConfig({ masterKey: t.app.ctx.config.masterKey, rateLimits: { ...UNTHROTTLED, api: 3 } }), {
      database: t.db.database,
      migrate: false,
      logger: false,
    });
    await limited.ready();
    const throttled = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => {
      for (let i = 0; i < 10; i++) {
        const r = await limited.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
        if (r.statusCode === 429) {
          expect(r.headers['retry-after']).toBeDefined();
          expect(r.headers['ratelimit-limit']).toBe('3');
          return 429;
        }
      }
      return 0;
    };
    try {
      const status = async (opts: InjectOptions) => (await t.app.inject(opts)).statusCode;
      const one = `/api/admin/sites/${site.id}`;
      const getSeen = [
        await status({ method: 'GET', url: one, headers: admin.auth }),
        await status({ method: 'GET', url: '/api/admin/sites/not-a-uuid', headers: admin.auth }),
        await status({ method: 'GET', url: one }),
        await status({ method: 'GET', url: one, headers: { authorization: 'Bearer ghk_live_nonsense' } }),
        await status({ method: 'GET', url: one, headers: viewer.auth }),
        await status({ method: 'GET', url: `/api/admin/sites/${nobody}`, headers: admin.auth }),
        await throttled('GET', one),
      ];
      expect([...new Set(getSeen.map(String))].sort()).toEqual(documented('/api/admin/sites/{id}', 'get'));

      const body = { name: 'Annex', timezone: 'Europe/London' };
      const postSeen = [
        await status({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: body }),
        await status({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { name: '' } }),
        await status({ method: 'POST', url: '/api/admin/sites', payload: body }),
        await status({ method: 'POST', url: '/api/admin/sites', headers: viewer.auth, payload: body }),
        await status({
          method: 'POST',
          url: '/api/admin/sites',
          headers: admin.auth,
          payload: { name: 'x', timezone: 'x', pad: 'x'.repeat(1024 * 1024) },
        }),
        await status({
          method: 'POST',
          url: '/api/admin/sites',
          headers: { ...admin.auth, 'content-type': 'application/xml' },
          payload: '<site name="Annex"/>',
        }),
        await status({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { ...body, timezone: 'Mars/Olympus' } }),
        await throttled('POST', '/api/admin/sites', body),
      ];
      expect([...new Set(postSeen.map(String))].sort()).toEqual(documented('/api/admin/sites', 'post'));

      const deleteSeen = [
        await status({ method: 'DELETE', url: `/api/admin/sites/${emptyId}`, headers: admin.auth }),
        await status({ method: 'DELETE', url: '/api/admin/sites/not-a-uuid', headers: admin.auth }),
        await status({ method: 'DELETE', url: one }),
        await status({ method: 'DELETE', url: one, headers: viewer.auth }),
        await status({ method: 'DELETE', url: `/api/admin/sites/${nobody}`, headers: admin.auth }),
        await status({ method: 'DELETE', url: one, headers: admin.auth }),
        await throttled('DELETE', `/api/admin/sites/${nobody}`),
      ];
      expect([...new Set(deleteSeen.map(String))].sort()).toEqual(documented('/api/admin/sites/{id}', 'delete'));
    } finally {
      await limited.close();
    }
  });

  it('the serializer drops no field of an error body', async () => {
    const app = await buildApp(testConfig(), { database: t.db.database, migrate: false, logger: false });
    try {
      app.get('/api/internal/teapot', async (_req, reply) =>
        reply.code(418).send({ error: { code: 'teapot', message: 'short and stout', retryAfter: 3 }, requestId: 'r-1' }),
      );
      await app.ready();
      const res = await app.inject('/api/internal/teapot');
      expect(res.statusCode).toBe(418);
      expect(res.json()).toEqual({ error: { code: 'teapot', message: 'short and stout', retryAfter: 3 }, requestId: 'r-1' });
    } finally {
      await app.close();
    }
  });
});
