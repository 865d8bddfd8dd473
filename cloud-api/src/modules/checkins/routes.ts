import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, emailDigest, writeAudit } from '../../lib/audit.js';
import { csvResponse, sendCsv } from '../../lib/csv.js';
import { acceptedLanguage } from '../../lib/i18n.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { UUID } from '../../lib/search.js';
import { occupancy } from '../presence/service.js';
import { checkinsCsv } from './export.js';
import { Checkin, CheckinExport, CheckinList, Dashboard, DashboardQuery, Occupancy } from './schema.js';
import { dashboard, listCheckins, nameAccess } from './service.js';

export const checkinRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/checkins',
    {
      config: { permission: 'checkins:read' },
      schema: { tags: ['checkins'], summary: 'Check-in history, newest first', querystring: CheckinList, response: { 200: Page(Checkin) } },
    },
    async (req) => listCheckins(ctx, req.principal!.orgId, req.query, nameAccess(req.principal!)),
  );
  app.get(
    '/checkins.csv',
    {
      config: { permission: 'checkins:read' },
      schema: {
        tags: ['checkins'],
        summary: 'The check-in history as CSV (UTF-8 with BOM), streamed: every row the filters match, newest first',
        querystring: CheckinExport,
        response: { 200: csvResponse('CSV, one row per check-in') },
      },
    },
    async (req, reply) => {
      const { lang, ...filters } = req.query;
      const lng = lang ?? acceptedLanguage(req.headers['accept-language']);
      // Names of visitors and hosts leave the system in this file: who took it, and what it held, is on record. A
      // search for an e-mail, phone or name is personal data itself: the append-only log keeps its keyed digest.
      const { q, ...narrowed } = filters;
      const search = q === undefined ? {} : UUID.test(q.trim()) ? { q: q.trim() } : { qDigest: emailDigest(ctx.config.masterKey, q) };
      await writeAudit(ctx.db, actorOf(req), {
        action: 'checkin.export',
        entityType: 'checkin_export',
        data: { ...narrowed, ...search, lang: lng },
      });
      const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '');
      return sendCsv(reply, `checkins-${stamp}`, await checkinsCsv(ctx, req.principal!.orgId, filters, nameAccess(req.principal!), lng));
    },
  );
  app.get(
    '/dashboard',
    {
      config: { permission: 'checkins:read' },
      schema: {
        tags: ['checkins'],
        summary: 'Check-ins per hour, allowed and refused, counted in SQL (the console dashboard)',
        querystring: DashboardQuery,
        response: { 200: Dashboard },
      },
    },
    async (req) => dashboard(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/sites/:id/occupancy',
    {
      config: { permission: 'checkins:read' },
      schema: { tags: ['checkins'], summary: 'Who is on site now', params: IdParams, response: { 200: Occupancy } },
    },
    async (req) => occupancy(ctx, req.principal!.orgId, req.params.id, nameAccess(req.principal!)),
  );
};
