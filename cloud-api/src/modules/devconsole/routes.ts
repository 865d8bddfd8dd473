/** Applications and their API keys (issue 13, filled in by its keys work). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const applicationRoutes: FastifyPluginAsyncTypebox = async () => {};
