import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Workspace packages are tested from source: the `@junction/source` export condition points
// every `@junction/*` import at `src/*.ts`, so tests need no build.
const conditions = ['@junction/source', 'node', 'import', 'default'];
// Vitest also hands the SSR conditions to the test processes as `node --conditions`. There they
// must not include `import`: it would make `require()` in CommonJS dependencies pick a package's
// ESM entry (MQTT.js's `require('ws')` would get ws's ESM wrapper, which lacks the
// `WebSocket.createWebSocketStream` its CommonJS entry has). Vite and Node add `import` or
// `require` by themselves, according to how a module is loaded.
const ssrConditions = ['@junction/source', 'node'];

/** One test project per workspace package (packages/*, apps/*, tools/*), named after its folder. */
const projects = ['packages', 'apps', 'tools'].flatMap((group) =>
  readdirSync(group)
    .filter((name) => existsSync(join(group, name, 'package.json')))
    .sort()
    .map((name) => ({
      extends: true as const,
      test: { name, root: join(group, name), include: ['test/**/*.test.ts'], passWithNoTests: true },
    })),
);

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: ssrConditions, externalConditions: ssrConditions } },
  test: {
    pool: 'forks',
    // Most suites wait on sockets, child processes and servers rather than compute: three workers
    // keep two cores busy (the default, one per core, left the suite mostly idle: 9 min vs 4).
    maxWorkers: 3,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects,
  },
});
