import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Packages resolve each other's TypeScript
// sources through the "source" export condition, so tests need no build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
      'protocol/test/**/*.test.ts',
      'edge-agent/test/**/*.test.ts',
      'cloud-api/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
