/** Webhook endpoints and their delivery log (issue 13). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const webhookRoutes: FastifyPluginAsyncTypebox = async () => {};
