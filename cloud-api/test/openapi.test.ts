/**
 * The OpenAPI document says what errors look like: every documented route
 * declares the shared ErrorResponse for its 4xx and 5xx (said once, in the
 * errors plugin), and the serializer that schema drives keeps every field an
 * error body carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createOrgWithUser, type Login, startApp, type TestApp, testConfig } from './helpers.js';

const ERROR_REF = '#/components/schemas/ErrorResponse';
/** Answers ≥ 400 with a body of their own, documented as such. */
const OWN_ERROR_BODIES = new Set(['get /api/internal/ready 503']);

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI error responses', () => {
  let t: TestApp;
  let admin: Login;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'OpenAPI Org', ['OrgAdmin']);
  });
  afterAll(async () => t?.close());

  it('every route declares the shared error schema for its 4xx and 5xx', async () => {
    const res = await t.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as OpenApiDoc;
    expect(doc.components.schemas.ErrorResponse).toMatchObject({
      type: 'object',
      required: ['error'],
      properties: { error: { type: 'object', required: ['code', 'message'] } },
    });
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(50);
    const missing: string[] = [];
    for (const { path, method, op } of operations) {
      const responses = op.responses ?? {};
      for (const range of ['4XX', '5XX']) if (!responses[range]) missing.push(`${method} ${path}: no ${range}`);
      for (const [status, answer] of Object.entries(responses)) {
        if (!/^[45]/.test(status) || OWN_ERROR_BODIES.has(`${method} ${path} ${status}`)) continue;
        const schema = answer.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (schema?.$ref !== ERROR_REF) missing.push(`${method} ${path} ${status}: ${JSON.stringify(schema)}`);
      }
    }
    expect(missing).toEqual([]);
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
