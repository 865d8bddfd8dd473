/**
 * How the cloud serves the console: the built files of console/dist at `/`,
 * `/guest` (the magic-link page) answered with the same index.html, strict
 * security headers on the HTML, and `GET /api/console/config` telling an
 * embedded console which parent origins may hand it a token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';

export interface ConsoleOptions {
  /** The directory `vite build` wrote. */
  root: string;
  /** Origins allowed to frame the console (CSP frame-ancestors) and to postMessage it a token. Empty: framing denied. */
  frameAncestors: () => readonly string[];
}

/** No inline script or style anywhere; connect-src includes ws(s) of the same host for the live feed. */
export function consoleCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
  ].join('; ');
}

/** What the console's browser code is told before sign-in (embed.ts). */
export const ConsoleConfig = Type.Object({
  frameAncestors: Type.Array(Type.String(), { description: 'origins that may embed the console (CSP frame-ancestors)' }),
});

export async function serveConsole(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const indexHtml = readFileSync(join(opts.root, 'index.html'), 'utf8');
  const html = (reply: import('fastify').FastifyReply) => {
    const ancestors = opts.frameAncestors();
    reply
      .header('content-security-policy', consoleCsp(ancestors))
      .header('cache-control', 'no-cache')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', ancestors.length ? 'unsafe-none' : 'same-origin')
      .header('permissions-policy', 'camera=(), microphone=(), geolocation=()')
      .type('text/html; charset=utf-8');
    // X-Frame-Options cannot name several origins; CSP frame-ancestors is what browsers follow, so drop helmet's SAMEORIGIN when framing is allowed.
    if (ancestors.length) reply.removeHeader('x-frame-options');
    else reply.header('x-frame-options', 'DENY');
    return reply.send(indexHtml);
  };
  await app.register(fastifyStatic, {
    root: opts.root,
    prefix: '/',
    index: false,
    wildcard: false,
    // Hashed file names never change content.
    setHeaders: (reply, path) => {
      if (path.includes('/assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  app.get('/', { schema: { hide: true } }, (_req, reply) => html(reply));
  app.get('/guest', { schema: { hide: true } }, (_req, reply) => html(reply));
  app.get(
    '/api/console/config',
    {
      schema: {
        tags: ['console'],
        summary: 'Console settings the browser needs (embedding allow-list)',
        response: { 200: ConsoleConfig },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { frameAncestors: [...opts.frameAncestors()] };
    },
  );
}
