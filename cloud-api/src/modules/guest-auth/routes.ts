import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { CHANNELS } from '../../db/schema.js';
import { Timestamp } from '../../lib/pagination.js';
import { sendCode, verifyCode } from './service.js';

const LinkToken = Type.String({ minLength: 1, maxLength: 2048, description: 'the token of the guest link (`/guest#token=…`)' });

export const GuestCodeSent = Type.Object({
  /** Masked: enough for the visitor to recognise their address, not enough to learn it. */
  sentTo: Type.String(),
  channel: Type.Enum(CHANNELS),
  expiresAt: Timestamp(),
});

export const GuestVerifyBody = Type.Object({
  token: LinkToken,
  code: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6 digits of the message' }),
});

export const GuestSessionAnswer = Type.Object({
  /** Send as `Authorization: Bearer …` to GET /api/guest/pass; only this pass, until `expiresAt`. */
  guestSession: Type.String(),
  expiresAt: Timestamp(),
});

const who = (req: FastifyRequest) => ({ ip: req.ip ?? null, userAgent: req.headers['user-agent']?.slice(0, 500) ?? null });

/**
 * Guest sign-in by one-time code (service.ts says why and lists the error
 * codes). Public routes under /api/guest, so the per-address guest limit of
 * plugins/external/rate-limit.ts applies besides the per-pass ones.
 */
export const guestAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.post(
    '/auth',
    {
      config: {
        errors: {
          401: 'invalid or expired guest link (`unauthorized`)',
          409: 'the pass is revoked or over (`pass_inactive`)',
          422: 'the visitor has no e-mail or phone (`no_address`)',
          429: 'too many codes for this pass, 5 an hour (`too_many_codes`); retry after `Retry-After` seconds',
        },
      },
      schema: {
        tags: ['guest'],
        summary: 'Send a one-time code to the address the invitation went to (the visitor’s e-mail, else phone)',
        description:
          'Errors: 401 unauthorized (bad link), 409 pass_inactive, 422 no_address, 429 too_many_codes (5 an hour per pass; Retry-After).',
        body: Type.Object({ token: LinkToken }),
        response: { 200: GuestCodeSent },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return sendCode(ctx, who(req), req.body.token);
    },
  );
  app.post(
    '/auth/verify',
    {
      config: {
        errors: {
          401: 'invalid or expired guest link (`unauthorized`)',
          409: 'the pass is revoked or over (`pass_inactive`)',
          410: 'the code has expired, or none is waiting (`code_expired`, `no_code`)',
          422: 'wrong code; the message says how many attempts are left (`code_invalid`)',
          429: 'the 5th wrong code burned it (`too_many_attempts`), or too many requests',
        },
      },
      schema: {
        tags: ['guest'],
        summary: 'Exchange the one-time code for a guest session (the pass’s credential until it ends, 30 days at most)',
        description:
          'Errors: 401 unauthorized (bad link), 409 pass_inactive, 422 code_invalid (attempts left in the message), 429 too_many_attempts (the 5th wrong code burns it), 410 code_expired, 410 no_code.',
        body: GuestVerifyBody,
        response: { 200: GuestSessionAnswer },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return verifyCode(ctx, who(req), req.body.token, req.body.code);
    },
  );
};
