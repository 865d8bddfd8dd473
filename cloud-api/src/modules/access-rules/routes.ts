import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Rule, RuleBody, RuleList, RulePatch } from './schema.js';
import { createRule, deleteRule, getRule, listRules, updateRule } from './service.js';

export const accessRuleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  crudRoutes(app, {
    path: '/access-rules',
    tags: ['access-rules'],
    read: 'rules:read',
    write: 'rules:write',
    item: Rule,
    create: {
      summary: 'Create an access rule',
      body: RuleBody,
      errors: { 422: 'zoneIds names a zone that does not exist' },
      run: createRule,
    },
    list: { summary: 'List access rules', querystring: RuleList, run: listRules },
    get: { summary: 'One access rule', run: getRule },
    update: {
      summary: 'Change an access rule',
      body: RulePatch,
      errors: { 422: 'zoneIds names a zone that does not exist' },
      run: updateRule,
    },
    remove: { summary: 'Remove an access rule (soft)', run: deleteRule },
  });
};
