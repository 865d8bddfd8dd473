import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` (in cloud-api/) writes SQL migrations under drizzle/; they are committed.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
