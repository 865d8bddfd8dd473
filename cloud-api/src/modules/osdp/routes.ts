import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams } from '../../lib/pagination.js';
import { OsdpKeyBody, OsdpKeyList, OsdpKeySent, ReaderParams } from './schema.js';
import { listOsdpKeys, resendOsdpKey, setOsdpKey } from './service.js';

/** OSDP Secure Channel keys of a gate's readers (SPEC CMD-5): made and kept sealed here, set on the reader by a signed command. */
export const osdpRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['gates'];
  const sendErrors = {
    404: 'no such gate in this organisation',
    409: 'no controller is enrolled as this gate, or it enrolled without a seal key',
  };
  app.post(
    '/gates/:id/osdp-keys',
    {
      config: { permission: 'gates:write', errors: sendErrors },
      schema: {
        tags,
        summary: "Make a new Secure Channel key for one of the gate's OSDP readers and send it to the controller, sealed",
        params: IdParams,
        body: OsdpKeyBody,
        response: { 201: OsdpKeySent },
      },
    },
    async (req, reply) => reply.code(201).send(await setOsdpKey(ctx, actorOf(req), req.params.id, req.body.reader)),
  );
  app.post(
    '/gates/:id/osdp-keys/:reader/resend',
    {
      config: { permission: 'gates:write', errors: { ...sendErrors, 404: 'no such gate, or no key for that reader' } },
      schema: {
        tags,
        summary: "Send a reader's stored key to the gate's controller again (a replaced controller, a command that expired)",
        params: ReaderParams,
        response: { 200: OsdpKeySent },
      },
    },
    async (req) => resendOsdpKey(ctx, actorOf(req), req.params.id, req.params.reader),
  );
  app.get(
    '/gates/:id/osdp-keys',
    {
      config: { permission: 'gates:read' },
      schema: {
        tags,
        summary: "The gate's OSDP reader keys: status and key id, never the key",
        params: IdParams,
        response: { 200: OsdpKeyList },
      },
    },
    async (req) => listOsdpKeys(ctx, req.principal!.orgId, req.params.id),
  );
};
