// @ts-check
import nx from '@nx/eslint-plugin';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Packages the pure domain may never import: frameworks, adapters and the host. */
const NOT_IN_DOMAIN = [
  '@nestjs/*', 'typeorm', 'pg', '@nats-io/*', 'nats', '@grpc/*', '@pulumi/*', 'express', 'pino', 'nestjs-pino',
  'testcontainers',
];

/** Node's host APIs (the boundary rule only sees packages): the domain reads no disk, network or process. */
const HOST_MODULES = ['child_process', 'fs', 'fs/promises', 'net', 'http', 'https', 'dgram', 'dns', 'os', 'cluster', 'worker_threads'];

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
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            // type axis: what kind of code may depend on what
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'], bannedExternalImports: NOT_IN_DOMAIN },
            { sourceTag: 'type:proto', onlyDependOnLibsWithTags: ['type:proto'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:domain'] },
            // a runtime library: an app's machinery that speaks the wire protocol (the agent runtime)
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:runtime', 'type:util', 'type:domain', 'type:proto'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:runtime', 'type:util', 'type:domain', 'type:proto'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:proto', 'type:util', 'type:runtime', 'type:testing'] },
            // scope axis: which part of the product may use what
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:control-plane', onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'] },
            { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:agent', 'scope:shared'] },
            { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:console', 'scope:shared'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
          ],
        },
      ],
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
    // Tests may assert on loosely typed JSON bodies.
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['*.mjs', '*.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
