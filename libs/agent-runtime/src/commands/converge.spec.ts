import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { FenceStore } from '../fence-store.js';
import type { DeploySecrets, ReleasesResult, SiteSecretField, StepReporter } from '../site-operations.js';
import { ScriptedHost } from '../testing/scripted-host.js';
import type { CommandContext } from './command-handler.js';
import { converge } from './converge.js';

/** A host that notes what each deploy was given. */
class SecretsHost extends ScriptedHost {
  readonly deploys: DeploySecrets[] = [];
  override deploy(site: SiteConfig, report: StepReporter, secrets: DeploySecrets = {}): Promise<ReleasesResult> {
    this.deploys.push(secrets);
    return super.deploy(site, report);
  }
}

const QUIET: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };
const site = (git: SiteConfig['git']): SiteConfig => ({ name: 'shop', id: 'abcd1234', environment: 'production', domains: ['shop.example.test'], keepReleases: 0, ...(git ? { git } : {}) });

describe('converge: the git token of a private https repository', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function run(config: SiteConfig): Promise<{ host: SecretsHost; asked: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'converge-'));
    dirs.push(dir);
    const host = new SecretsHost();
    const asked: string[] = [];
    const context: CommandContext = {
      ref: { id: 'shop-3', node: 'n1', site: 'shop', fence: 3 },
      siteId: 'abcd1234',
      node: 'n1',
      host,
      fences: new FenceStore(dir),
      report: QUIET,
      stores: { access: () => Promise.reject(new Error('no stores')) },
      siteSecrets: {
        access: (name: string, field: SiteSecretField, command: string) => {
          asked.push(`${name} ${field} ${command}`);
          return Promise.resolve('the-token');
        },
      },
      logger: createLogger({ name: 'converge-spec', level: 'silent' }),
      started: Date.now(),
    };
    // The first provision of a site with code builds its first release from git.
    await converge('provision')({ site: config }, context);
    return { host, asked };
  }

  it('is fetched for this command and handed to the deploy when the source says it has one', async () => {
    const { host, asked } = await run(site({ url: 'https://git.example.test/acme/shop.git', ref: 'main', knownHosts: '', username: 'x-access-token', token: true }));
    expect(asked).toEqual(['shop gitToken shop-3']);
    expect(host.deploys).toEqual([{ gitToken: 'the-token' }]);
  });

  it('is not asked for without a token (a public repository, ssh)', async () => {
    const { host, asked } = await run(site({ url: 'git@git.example.test:acme/shop.git', ref: 'main', knownHosts: 'k', username: '', token: false }));
    expect(asked).toEqual([]);
    expect(host.deploys).toEqual([{}]);
  });
});
