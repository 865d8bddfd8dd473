/** The sandbox organisation's simulated gate (issue 13). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const sandboxRoutes: FastifyPluginAsyncTypebox = async () => {};
