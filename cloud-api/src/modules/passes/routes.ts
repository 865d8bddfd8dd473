import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import Type from 'typebox';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { crudRoutes } from '../../lib/crud-routes.js';
import { IdParams } from '../../lib/pagination.js';
import { hostScope } from '../appointments/service.js';
import { nameAccess } from '../checkins/service.js';
import { invitationRoutes } from '../invitations/routes.js';
import { CheckBody, CheckResult, Credential, CredentialQuery, IssuedPass, Pass, PassBody, PassList, RevokeBody } from './schema.js';
import { checkPass, credentialOf, getPass, issuePass, listPasses, requirePass, revokePass } from './service.js';

export const passRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['passes'];
  // POST /passes/:id/invite and the reminder queue (modules/invitations).
  await app.register(invitationRoutes);
  /**
   * Whoever reads a working entry credential is on record. Its own entity type, not `pass`:
   * an audited `pass` row tells every edge to fetch the pass again (drizzle/0003), and a read changes nothing.
   */
  const auditCredentialRead = (req: FastifyRequest, passId: string, kind: string, format: 'json' | 'svg') =>
    writeAudit(ctx.db, actorOf(req), {
      action: 'pass.credential_read',
      entityType: 'pass_credential',
      entityId: passId,
      data: { kind, format },
    });
  crudRoutes(app, {
    path: '/passes',
    tags,
    read: 'passes:read',
    write: 'passes:issue',
    item: Pass,
    create: {
      summary: 'Issue a visit pass (the answer carries the guest link)',
      body: PassBody,
      response: IssuedPass,
      errors: {
        404: 'visitorId, accessRuleId or appointmentId names nothing in this organisation',
        422: 'validTo is not after validFrom, or the validity leaves 1970–2106; a group pass without a size of 2..1000 (here or from its rule): group_size_required',
      },
      run: issuePass,
    },
    // A Host sees only the passes of their own meetings (appointments:any: everyone's).
    list: {
      summary: 'List passes',
      querystring: PassList,
      run: async (ctx, orgId, query, req) =>
        listPasses(ctx, orgId, await hostScope(ctx.db, req.principal!), query, nameAccess(req.principal!)),
    },
    get: { summary: 'One pass', run: async (ctx, orgId, id, req) => getPass(ctx, orgId, await hostScope(ctx.db, req.principal!), id) },
  });
  app.post(
    '/passes/:id/revoke',
    {
      config: { permission: 'passes:revoke', errors: { 409: 'the pass is revoked already' } },
      schema: { tags, summary: 'Revoke a pass', params: IdParams, body: RevokeBody, response: { 200: Pass } },
    },
    async (req) => revokePass(ctx, actorOf(req), req.params.id, req.body.reason),
  );
  // A working entry credential is its own permission: whoever holds it walks in (never a Host's).
  app.get(
    '/passes/:id/credential',
    {
      config: { permission: 'passes:credential', errors: { 409: 'the pass is revoked' } },
      schema: {
        tags,
        summary: 'The text its QR encodes now',
        params: IdParams,
        querystring: CredentialQuery,
        response: { 200: Credential },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const kind = req.query.kind ?? 'dynamic';
      const cred = await credentialOf(ctx, await requirePass(ctx.db, req.principal!.orgId, req.params.id), kind);
      await auditCredentialRead(req, req.params.id, kind, 'json');
      return cred;
    },
  );
  app.get(
    '/passes/:id/qr.svg',
    {
      config: { permission: 'passes:credential', errors: { 409: 'the pass is revoked' } },
      schema: {
        tags,
        summary: 'The QR image (SVG)',
        params: IdParams,
        querystring: CredentialQuery,
        response: { 200: { description: 'The QR code', content: { 'image/svg+xml': { schema: Type.String() } } } },
      },
    },
    async (req, reply) => {
      const kind = req.query.kind ?? 'dynamic';
      const cred = await credentialOf(ctx, await requirePass(ctx.db, req.principal!.orgId, req.params.id), kind);
      await auditCredentialRead(req, req.params.id, kind, 'svg');
      const svg = await QRCode.toString(cred.payload, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.header('content-type', 'image/svg+xml').header('cache-control', 'no-store').send(svg);
    },
  );
  app.post(
    '/passes/:id/check',
    {
      config: { permission: 'passes:check', errors: { 404: 'gateId names no gate of this organisation', 422: 'at is before 1970' } },
      schema: {
        tags,
        summary: 'Would this pass open that gate at that time? (the edge’s decide())',
        params: IdParams,
        body: CheckBody,
        response: { 200: CheckResult },
      },
    },
    async (req) => {
      const d = await checkPass(ctx, req.principal!.orgId, req.params.id, req.body);
      return { allow: d.allow, reason: d.reason, ...(d.alert ? { alert: d.alert } : {}) };
    },
  );
};
