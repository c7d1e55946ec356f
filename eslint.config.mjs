// @ts-check
import nx from '@nx/eslint-plugin';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Packages the pure domain may never import: frameworks, adapters and the host. */
const NOT_IN_DOMAIN = [
  '@nestjs/*', 'typeorm', 'pg', '@nats-io/*', 'nats', '@grpc/*', '@pulumi/*', 'express', 'pino', 'nestjs-pino',
  'testcontainers',
];

/** Test runners and their helpers never run in production. */
const NOT_IN_PRODUCTION = ['vitest', 'vitest/*', 'testcontainers'];

/** Node's host APIs (the boundary rule only sees packages): the domain reads no disk, network or process. */
const HOST_MODULES = ['child_process', 'fs', 'fs/promises', 'net', 'http', 'https', 'dgram', 'dns', 'os', 'cluster', 'worker_threads'];

/** Test code: the specs, and the fixtures that start an app in-process (apps/<app>/test, outside the build). */
const TEST_FILES = ['**/*.spec.ts', 'apps/*/test/**/*.ts'];

/**
 * The benchmarks measure the apps in-process (the control plane's own thread CPU, reconciles
 * called directly, the host steps alone): these entry points, and nothing else of an app, may
 * be imported from tools/bench (docs/adr/0017).
 */
const BENCH_IN_PROCESS = [
  '../../apps/control-plane/src/app.js',
  '../../apps/control-plane/src/config/control-plane.config.js',
  '../../apps/control-plane/src/engine/site.reconciler.js',
  '../../apps/agent/src/host/site-host.js',
  '../../apps/agent/test/host-harness.js',
];

/**
 * @nx/enforce-module-boundaries: production code of an app depends on domain, proto, util and
 * runtime libraries of its own scope or shared; test code (`tests`) may also use the testing projects,
 * including the system-wide harness; `allow` names imports exempt from the rule.
 * @param {{ tests?: boolean, allow?: string[] }} options
 */
function boundaries({ tests = false, allow = [] } = {}) {
  const system = tests ? ['scope:system'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allowCircularSelfDependency: false,
      banTransitiveDependencies: false,
      allow,
      depConstraints: [
        // type axis: what kind of code may depend on what
        { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'], bannedExternalImports: NOT_IN_DOMAIN },
        { sourceTag: 'type:proto', onlyDependOnLibsWithTags: ['type:proto'] },
        { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:domain'] },
        // a runtime library: an app's machinery that speaks the wire protocol (the agent runtime)
        { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:runtime', 'type:util', 'type:domain', 'type:proto'] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:runtime', 'type:util', 'type:domain', 'type:proto'] },
        { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:testing', 'type:runtime', 'type:util', 'type:domain', 'type:proto'] },
        tests
          ? { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:proto', 'type:util', 'type:runtime', 'type:testing'] }
          : { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:proto', 'type:util', 'type:runtime'], bannedExternalImports: NOT_IN_PRODUCTION },
        // scope axis: which part of the product may use what
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
        { sourceTag: 'scope:control-plane', onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared', ...system] },
        { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:agent', 'scope:shared', ...system] },
        { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:console', 'scope:shared'] },
        { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared', ...system] },
        // the whole system at once: the end-to-end harness and the benchmarks
        { sourceTag: 'scope:system', onlyDependOnLibsWithTags: ['scope:system', 'scope:control-plane', 'scope:agent', 'scope:shared'] },
      ],
    },
  ];
}

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.tools/**', '.nx/**', '.angular/**', '.pressluft/**', 'libs/proto/src/gen/**', 'apps/console/**', '**/*.cjs'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', '*.mts'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@nx/enforce-module-boundaries': boundaries(),
    },
  },
  {
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: HOST_MODULES.map((name) => ({ name, message: 'libs/domain is pure: no host APIs (adapters live in the apps).' })),
          patterns: [{ group: ['node:*'], message: 'libs/domain is pure: no host APIs (adapters live in the apps).' }],
        },
      ],
    },
  },
  {
    // An app's production files: no test code of its own either (the rule above sees only other projects).
    files: ['apps/*/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/test/**', '**/*.spec', '**/*.spec.js'], message: 'test code stays out of production files (apps/<app>/test is for the specs).' },
            { group: ['@pressluft/*/testing'], message: "a library's test doubles are test code: test code stays out of production files." },
          ],
        },
      ],
    },
  },
  {
    files: TEST_FILES,
    rules: { '@nx/enforce-module-boundaries': boundaries({ tests: true }) },
  },
  {
    files: ['tools/bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ allow: BENCH_IN_PROCESS }) },
  },
  {
    // Tests may assert on loosely typed JSON bodies.
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['*.mjs', '*.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
