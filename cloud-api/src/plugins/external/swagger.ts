import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/** OpenAPI from the route schemas at /docs/json, the UI at /docs. Shared schemas (`$id`) keep their names in components. */
export default fp<{ version: string }>(
  async (app, opts) => {
    await app.register(swagger, {
      openapi: {
        info: { title: 'Gatehouse cloud API', version: opts.version },
        // Each route says which it takes (plugins/app/api-docs.ts): none, the JWT, or on /api/admin either.
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'An access token from POST /api/auth/login (or /api/auth/refresh), or an OIDC token when OIDC is set up.',
            },
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'ghk_live_… / ghk_test_…',
              description:
                "An application's API key from the developer console (`ghk_live_` for a real organisation, `ghk_test_` for a sandbox), sent as `Authorization: Bearer ghk_…`; accepted on /api/admin only, limited to the key's scopes.",
            },
          },
        },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'openapi' },
);
