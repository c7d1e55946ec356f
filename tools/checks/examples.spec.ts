import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KIND_NAMES, validateManifest, type KindName } from '@pressluft/domain';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

// The README's examples are what users apply first: each must be valid as the API checks it.
const dir = resolve(__dirname, '../../examples');
const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));

describe('examples/*.yaml', () => {
  it('exist', () => {
    expect(files).toEqual(expect.arrayContaining(['site.yaml', 'staging.yaml', 'contentsync.yaml', 'promotion.yaml']));
  });

  it.each(files)('%s is valid under strict field validation', (file) => {
    const body = parseYaml(readFileSync(resolve(dir, file), 'utf8')) as { kind: string };
    expect(KIND_NAMES).toContain(body.kind);
    const result = validateManifest(body.kind as KindName, body, 'Strict');
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});
