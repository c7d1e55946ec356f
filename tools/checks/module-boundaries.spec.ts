import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// Proves the lint gate itself: the boundary rules fail on the imports they exist to forbid.
const root = resolve(__dirname, '../..');

describe('module boundaries (the real eslint.config.mjs)', () => {
  let eslint: ESLint;

  beforeAll(async () => {
    process.env['NX_DAEMON'] = 'false';
    // The rule reads Nx's computed project graph and, without one, skips itself with only a console warning.
    execFileSync(resolve(root, 'node_modules/.bin/nx'), ['show', 'projects'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_NO_CLOUD: 'true' } });
    // The probe file exists only in memory, so type-aware rules (which need it on disk) are off.
    eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
    // Loading the config and plugins takes seconds on a busy machine: paid here, not by the first test.
    await eslint.lintText('export {};\n', { filePath: `${root}/libs/domain/src/probe.ts` });
  }, 120_000);

  async function boundaryErrors(file: string, code: string, rule = '@nx/enforce-module-boundaries'): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: `${root}/${file}` });
    return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
  }

  it.each([
    ['@nestjs/common', "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n"],
    ['typeorm', "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n"],
    ['@nats-io/transport-node', "import { connect } from '@nats-io/transport-node';\nexport const x = connect;\n"],
  ])('libs/domain may not import %s', async (pkg, code) => {
    expect(await boundaryErrors('libs/domain/src/probe.ts', code)).toEqual([
      `A project tagged with "type:domain" is not allowed to import "${pkg}"`,
    ]);
  });

  it.each(['node:child_process', 'child_process', 'node:fs', 'fs'])('libs/domain may not import the host module %s', async (mod) => {
    const errors = await boundaryErrors('libs/domain/src/probe.ts', `import * as m from '${mod}';\nexport const x = m;\n`, 'no-restricted-imports');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('libs/domain is pure');
  });

  it('libs/domain may not import a non-domain library', async () => {
    const errors = await boundaryErrors('libs/domain/src/probe.ts', "import { createLogger } from '@pressluft/platform';\nexport const x = createLogger;\n");
    expect(errors).toEqual(['A project tagged with "type:domain" can only depend on libs tagged with "type:domain"']);
  });

  const TYPE_APP = 'A project tagged with "type:app" can only depend on libs tagged with "type:domain", "type:proto", "type:util", "type:runtime"';

  it.each(['@pressluft/testing', '@pressluft/e2e-harness'])('an app\'s production file may not import the testing project %s', async (lib) => {
    const code = `import * as t from '${lib}';\nexport const x = t;\n`;
    expect(await boundaryErrors('apps/control-plane/src/probe.ts', code)).toContain(TYPE_APP);
    expect(await boundaryErrors('apps/agent/src/host/probe.ts', code)).toContain(TYPE_APP);
  });

  it('an app\'s production file may not import a test runner', async () => {
    const errors = await boundaryErrors('apps/agent/src/probe.ts', "import { it } from 'vitest';\nexport const x = it;\n");
    expect(errors).toEqual(['A project tagged with "type:app" is not allowed to import "vitest"']);
  });

  it.each([
    ['apps/control-plane/src/engine/probe.ts', '../../test/control-plane.fixture.js'],
    ['apps/agent/src/host/probe.ts', '../../test/host-fixtures.js'],
    ['apps/agent/src/host/probe.ts', './naming.spec.js'],
    ['apps/agent/src/probe.ts', '@pressluft/agent-runtime/testing'],
  ])('%s (production) may not import the test code %s', async (file, imp) => {
    const errors = await boundaryErrors(file, `import * as t from '${imp}';\nexport const x = t;\n`, 'no-restricted-imports');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('test code stays out of production files');
  });

  it('a spec may import the testing projects and its app\'s test code', async () => {
    const code =
      "import { Harness } from '@pressluft/testing';\nimport { TestAgent } from '@pressluft/e2e-harness';\nimport { startControlPlaneFixture } from '../../test/control-plane.fixture.js';\nexport const x = [Harness, TestAgent, startControlPlaneFixture];\n";
    expect(await boundaryErrors('apps/control-plane/src/engine/probe.spec.ts', code)).toEqual([]);
    expect(await boundaryErrors('apps/control-plane/src/engine/probe.spec.ts', code, 'no-restricted-imports')).toEqual([]);
  });

  it('a library may not import a testing project', async () => {
    const errors = await boundaryErrors('libs/proto/src/probe.ts', "import { Harness } from '@pressluft/testing';\nexport const x = Harness;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^A project tagged with "type:proto" can only depend on libs tagged with "type:proto"/);
  });

  it('the testing projects may not import an app', async () => {
    const errors = await boundaryErrors('libs/e2e-harness/src/probe.ts', "import { startControlPlane } from '../../../apps/control-plane/src/app.js';\nexport const x = startControlPlane;\n");
    expect(errors).toEqual(['Projects cannot be imported by a relative or absolute path, and must begin with a npm scope']);
  });

  it('the benchmarks may import the testing projects and the in-process entry points they measure, no other app code', async () => {
    const allowed =
      "import { TestAgent } from '@pressluft/e2e-harness';\nimport { startControlPlane } from '../../apps/control-plane/src/app.js';\nimport { SiteHost } from '../../apps/agent/src/host/site-host.js';\nexport const x = [TestAgent, startControlPlane, SiteHost];\n";
    expect(await boundaryErrors('tools/bench/probe.ts', allowed)).toEqual([]);
    const other = "import { ResourceStore } from '../../apps/control-plane/src/resources/resource.store.js';\nexport const x = ResourceStore;\n";
    expect(await boundaryErrors('tools/bench/probe.ts', other)).toEqual(['Projects cannot be imported by a relative or absolute path, and must begin with a npm scope']);
  });

  it('the control plane may import the domain and the platform library', async () => {
    const code = "import { validateName } from '@pressluft/domain';\nimport { createLogger } from '@pressluft/platform';\nexport const x = [validateName, createLogger];\n";
    expect(await boundaryErrors('apps/control-plane/src/probe.ts', code)).toEqual([]);
  });
});
