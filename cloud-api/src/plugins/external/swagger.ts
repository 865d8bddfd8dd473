import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/** OpenAPI from the route schemas at /docs/json, the UI at /docs. Shared schemas (`$id`) keep their names in components. */
export default fp<{ version: string }>(
  async (app, opts) => {
    await app.register(swagger, {
      openapi: {
        info: { title: 'Gatehouse cloud API', version: opts.version },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'openapi' },
);
