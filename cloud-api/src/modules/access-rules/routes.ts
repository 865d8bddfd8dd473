import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Rule, RuleBody, RuleList, RulePatch } from './schema.js';
import { createRule, deleteRule, getRule, listRules, updateRule } from './service.js';

export const accessRuleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['access-rules'];
  app.post(
    '/access-rules',
    { config: { permission: 'rules:write' }, schema: { tags, summary: 'Create an access rule', body: RuleBody, response: { 201: Rule } } },
    async (req, reply) => reply.code(201).send(await createRule(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/access-rules',
    {
      config: { permission: 'rules:read' },
      schema: { tags, summary: 'List access rules', querystring: RuleList, response: { 200: Page(Rule) } },
    },
    async (req) => listRules(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/access-rules/:id',
    { config: { permission: 'rules:read' }, schema: { tags, summary: 'One access rule', params: IdParams, response: { 200: Rule } } },
    async (req) => getRule(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/access-rules/:id',
    {
      config: { permission: 'rules:write' },
      schema: { tags, summary: 'Change an access rule', params: IdParams, body: RulePatch, response: { 200: Rule } },
    },
    async (req) => updateRule(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/access-rules/:id',
    { config: { permission: 'rules:write' }, schema: { tags, summary: 'Remove an access rule (soft)', params: IdParams } },
    async (req, reply) => {
      await deleteRule(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
};
