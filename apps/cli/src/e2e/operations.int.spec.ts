import { siteManifest, until, V1, type ApiObject } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CliWorld } from '../../test/cli-world.js';

const GIT = 'https://git.example.test/shop.git';
const C0 = '0'.repeat(40);
const C1 = '1'.repeat(40);
const R1 = '20261207T100000Z';
const R2 = '20261207T110000Z';

/**
 * pressluftctl's long operations against a real control plane with a test agent as the node:
 * each exits 0 when the operation succeeded, and bad input exits non-zero having changed nothing.
 */
describe('pressluftctl operations', () => {
  let w: CliWorld;
  const call = <T = ApiObject>(path: string, options: Parameters<CliWorld['scenario']['call']>[2] = {}) => w.scenario.call<T>(w.replica, path, options);
  const get = async (plural: string, name: string) => (await call(`${V1}/${plural}/${name}`)).body;
  const count = async (plural: string) => (await call<{ items: unknown[] }>(`${V1}/${plural}`)).body.items.length;
  const site = (name: string, more: Record<string, unknown> = {}) => {
    const manifest = siteManifest(name, w.node) as { spec: Record<string, unknown> };
    return { ...manifest, spec: { ...manifest.spec, code: { git: { url: GIT, ref: 'main' } }, ...more } };
  };

  beforeAll(async () => {
    w = await CliWorld.start('ctlops');
    await w.login();
    w.agent.identity = { currentCommit: C0, deployPublicKey: '' };
    await w.scenario.create(w.replica, 'sites', site('ops-shop'));
    await w.scenario.waitActive(w.replica, 'ops-shop');
  }, 180_000);

  afterAll(async () => {
    await w?.stop();
  });

  it('wait --for=condition=Ready returns when the new site becomes Ready (watch), and times out with exit 4', async () => {
    await w.scenario.create(w.replica, 'sites', site('ops-wait'));
    const waited = await w.run(['wait', 'site/ops-wait', '--for=condition=Ready', '--timeout', '30s']);
    expect(waited, waited.stderr).toMatchObject({ code: 0, stdout: 'site/ops-wait condition met: Ready=True\n' });
    const ready = await get('sites', 'ops-wait');
    expect(ready.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const timedOut = await w.run(['wait', 'site/ops-wait', '--for=condition=Ready=False', '--timeout', '2s']);
    expect(timedOut.code).toBe(4);
    expect(timedOut.stderr).toContain('timed out after 2 s waiting for sites/ops-wait');
  });

  it('logs -f site/<name> prints each line while the command runs and follows the next command', async () => {
    const follow = w.start(['logs', '-f', 'site/ops-shop']);
    try {
      await until('the provision log', () => (follow.output().includes('==> ops-shop-1 (ProvisionSite)\nconverge (50%)\n') ? true : undefined), 15_000, () => follow.output() + follow.errors());
      w.agent.behaviour = 'hang';
      expect((await call(`${V1}/sites/ops-shop`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Shop two' } } } })).status).toBe(200);
      await until('the deploy log', () => (follow.output().includes('==> ops-shop-2 (DeploySite)\nconverge (50%)\n') ? true : undefined), 15_000, () => follow.output() + follow.errors());
      // The line came while the command still runs; the next one the node sends comes too.
      expect((await get('commands', 'ops-shop-2')).status.state).toBe('RUNNING');
      const deploy = w.agent.received.find((r) => r.command.ref?.id === 'ops-shop-2')?.command;
      if (!deploy) throw new Error('the agent never received ops-shop-2');
      await w.agent.sendEvent(deploy, 3, { $case: 'log', value: { line: `release ${R2} built` } });
      await until('the streamed line', () => (follow.output().includes(`release ${R2} built\n`) ? true : undefined), 15_000, () => follow.output());
      // The node reports two releases (the scripted host keeps none), so a rollback has somewhere to go.
      const state = { currentRelease: R2, releases: [R2, R1], fingerprints: {}, fingerprintsComplete: false, currentCommit: C0, deployPublicKey: '' };
      await w.agent.sendEvent(deploy, 4, { $case: 'succeeded', value: { message: 'deployed', site: state } });
      w.agent.behaviour = 'succeed';
      await until('ops-shop-2 SUCCEEDED', async () => ((await get('commands', 'ops-shop-2')).status.state === 'SUCCEEDED' ? true : undefined));
    } finally {
      w.agent.behaviour = 'succeed';
      const stopped = await follow.stop();
      expect(stopped.stderr).toBe('');
    }
    const once = await w.run(['logs', 'ops-shop-2']);
    expect(once).toMatchObject({ code: 0, stdout: `converge (50%)\nrelease ${R2} built\n` });
    const finished = await w.run(['logs', '-f', 'ops-shop-2']);
    expect(finished).toMatchObject({ code: 0, stdout: `converge (50%)\nrelease ${R2} built\n` });
  });

  it('rollback --wait sends a RollbackSite and exits 0 when it succeeded; a malformed release id is refused (3) and sends nothing', async () => {
    await until('ops-shop ACTIVE with releases', async () => ((await get('sites', 'ops-shop')).status.phase === 'ACTIVE' ? true : undefined));
    const rolled = await w.run(['rollback', 'ops-shop', '--wait']);
    expect(rolled, rolled.stderr).toMatchObject({ code: 0, stdout: 'command/ops-shop-3 SUCCEEDED\n' });
    expect((await get('commands', 'ops-shop-3')).spec).toMatchObject({ operation: 'RollbackSite' });
    const bad = await w.run(['rollback', 'ops-shop', '--release', 'not-a-release']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^error: Invalid: .*\n {2}release: must be a release id/);
    expect((await call(`${V1}/commands/ops-shop-4`)).status).toBe(404);
  });

  it('backup --wait shows the progress and exits 0; restore --wait puts it back; both as the objects say', async () => {
    const backup = await w.run(['backup', 'ops-shop', '--name', 'ops-bk', '--wait']);
    expect(backup, backup.stderr).toMatchObject({ code: 0, stdout: 'backup/ops-bk SUCCEEDED\n' });
    expect(backup.stderr).toContain('backup/ops-bk created\n');
    expect(backup.stderr).toContain('backup/ops-bk: BackupSite converge 50%\n');
    expect((await get('backups', 'ops-bk')).status.phase).toBe('SUCCEEDED');
    const restore = await w.run(['restore', 'ops-bk', '--name', 'ops-rs', '--wait', '-o', 'json']);
    expect(restore.code, restore.stderr).toBe(0);
    const restored = JSON.parse(restore.stdout) as ApiObject;
    expect(restored).toMatchObject({ kind: 'Restore', metadata: { name: 'ops-rs' }, spec: { backup: 'ops-bk' }, status: { phase: 'SUCCEEDED', site: 'ops-shop' } });
  });

  it('clone --wait makes a staging copy; sync-content and promote --wait move content down and code up', async () => {
    w.agent.identity = { currentCommit: C1, deployPublicKey: '' };
    const clone = await w.run(['clone', 'ops-shop', 'ops-stg', '--domain', 'stg.ops.example.test', '--wait']);
    expect(clone, clone.stderr).toMatchObject({ code: 0, stdout: 'site/ops-stg ACTIVE\n' });
    expect((await get('sites', 'ops-stg')).spec).toMatchObject({ environment: 'staging', domains: ['stg.ops.example.test'], source: { clone: { site: 'ops-shop' } }, code: { git: { url: GIT } } });
    const sync = await w.run(['sync-content', '--from', 'ops-shop', '--to', 'ops-stg', '--parts', 'database', '--wait', '-o', 'yaml']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(parseYaml(sync.stdout)).toMatchObject({ kind: 'ContentSync', spec: { from: 'ops-shop', to: 'ops-stg', parts: ['database'] }, status: { phase: 'SUCCEEDED' } });
    await until('ops-stg Ready at C1', async () => {
      const stg = await get('sites', 'ops-stg');
      return stg.status.phase === 'ACTIVE' && stg.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    const promote = await w.run(['promote', '--from', 'ops-stg', '--to', 'ops-shop', '--name', 'ops-up', '--wait']);
    expect(promote, promote.stderr).toMatchObject({ code: 0, stdout: 'promotion/ops-up SUCCEEDED\n' });
    expect((await get('sites', 'ops-shop')).spec).toMatchObject({ code: { git: { url: GIT, ref: C1 } } });
  });

  it('describe site shows conditions, releases, commands and events on one screen; -o json has them all', async () => {
    const text = await w.run(['describe', 'site', 'ops-shop']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Name: {9}ops-shop\n/);
    for (const part of ['Conditions:\n  TYPE', 'Releases:\n  * 20261207T110000Z (current)', 'Commands (newest 10):', 'Events (newest 10):', 'CommandSucceeded']) expect(text.stdout).toContain(part);
    expect(text.stdout).toMatch(/\n {2}Ready +True +Converged /);
    expect(text.stdout).toMatch(/\n {2}ops-shop-3 +RollbackSite +SUCCEEDED /);
    const json = await w.run(['describe', 'site', 'ops-shop', '-o', 'json']);
    const parsed = JSON.parse(json.stdout) as { site: ApiObject; events: unknown[]; commands: ApiObject[] };
    expect(parsed.site.metadata.name).toBe('ops-shop');
    expect(parsed.events.length).toBeGreaterThan(0);
    expect(parsed.commands.map((c) => c.metadata.name)).toEqual(expect.arrayContaining(['ops-shop-1', 'ops-shop-2', 'ops-shop-3']));
  });

  it('bad input: a clear message, the exit code for it, and nothing created', async () => {
    const before = { backups: await count('backups'), contentsyncs: await count('contentsyncs'), sites: await count('sites'), promotions: await count('promotions') };
    const cases: Array<[string[], number, RegExp]> = [
      [['backup', 'no-such-site'], 3, /^error: Invalid: .*\n {2}spec\.site: /],
      [['backup', 'Not_A_Name'], 3, /spec\.site|metadata\.name/],
      [['sync-content', '--from', 'ops-stg', '--to', 'ops-shop'], 3, /NoContentIntoProduction|production/],
      [['promote', '--from', 'ops-shop', '--to', 'ops-stg'], 3, /NoPromotionToStaging/],
      [['clone', 'no-such-site', 'ops-x', '--domain', 'x.example.test'], 3, /NotFound/],
      [['clone', 'ops-shop', 'ops-x'], 2, /Missing required argument: domain/],
      [['sync-content', '--from', 'ops-shop', '--to', 'ops-stg', '--parts', 'code'], 2, /--parts takes database and\/or uploads/],
      [['wait', 'site/ops-shop', '--for', 'Ready'], 2, /--for must be condition=/],
      [['wait', 'site/no-such-site', '--for=condition=Ready'], 3, /NotFound/],
      [['logs', 'site/no-such-site'], 3, /NotFound/],
      [['logs', 'node/x'], 2, /neither a command name nor site/],
      [['backup'], 2, /Not enough non-option arguments/],
      [['backup', 'ops-shop', '--bogus'], 2, /Unknown argument: bogus/],
    ];
    for (const [args, code, message] of cases) {
      const result = await w.run(args);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
    expect({ backups: await count('backups'), contentsyncs: await count('contentsyncs'), sites: await count('sites'), promotions: await count('promotions') }).toEqual(before);
  });
});
