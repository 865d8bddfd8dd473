import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Page } from '../../lib/pagination.js';
import { AuditEntry, AuditList } from './schema.js';
import { listAudit } from './service.js';

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/audit-logs',
    {
      config: { permission: 'audit:read' },
      schema: { tags: ['audit'], summary: 'Who did what, when, from where', querystring: AuditList, response: { 200: Page(AuditEntry) } },
    },
    async (req) => listAudit(ctx, req.principal!.orgId, req.query, req.principal!.permissions.has('users:read')),
  );
};
