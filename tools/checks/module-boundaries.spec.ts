import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// Proves the lint gate itself: the boundary rules fail on the imports they exist to forbid.
const root = resolve(__dirname, '../..');

describe('module boundaries (the real eslint.config.mjs)', () => {
  let eslint: ESLint;

  beforeAll(() => {
    process.env['NX_DAEMON'] = 'false';
    // The probe file exists only in memory, so type-aware rules (which need it on disk) are off.
    eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
  });

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

  it('the control plane may import the domain and the platform library', async () => {
    const code = "import { validateName } from '@pressluft/domain';\nimport { createLogger } from '@pressluft/platform';\nexport const x = [validateName, createLogger];\n";
    expect(await boundaryErrors('apps/control-plane/src/probe.ts', code)).toEqual([]);
  });
});
