/** Per-application usage (issue 13). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const usageRoutes: FastifyPluginAsyncTypebox = async () => {};
