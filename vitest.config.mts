import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const lib = (name: string) => fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url));

const alias = {
  // Longest first: the testing entry is not the library's production index.
  '@pressluft/agent-runtime/testing': fileURLToPath(new URL('./libs/agent-runtime/src/testing/index.ts', import.meta.url)),
  '@pressluft/agent-runtime': lib('agent-runtime'),
  '@pressluft/domain': lib('domain'),
  '@pressluft/e2e-harness': lib('e2e-harness'),
  '@pressluft/platform': lib('platform'),
  '@pressluft/proto': lib('proto'),
  '@pressluft/testing': lib('testing'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts', 'tools/**/*.spec.ts'],
          exclude: ['**/*.int.spec.ts', 'apps/console/**'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['apps/*/src/**/*.int.spec.ts', 'libs/*/src/**/*.int.spec.ts'],
          globalSetup: ['libs/testing/src/vitest-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
