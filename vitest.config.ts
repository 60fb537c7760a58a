import { defineConfig } from 'vitest/config';

// Workspace packages are tested from source: the `@junction/source` export condition points
// every `@junction/*` import at `src/*.ts`, so tests need no build.
const conditions = ['@junction/source', 'node', 'import', 'default'];

const project = (root: string, name: string) => ({
  extends: true as const,
  test: { name, root, include: ['test/**/*.test.ts'] },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      project('packages/broker-core', 'broker-core'),
      project('packages/mqtt', 'mqtt'),
      project('packages/mqtt-sn', 'mqtt-sn'),
      project('packages/coap', 'coap'),
      project('packages/ocpp', 'ocpp'),
      project('packages/auth', 'auth'),
      project('apps/gateway', 'gateway'),
      project('tools/repo-checks', 'repo-checks'),
    ],
  },
});
