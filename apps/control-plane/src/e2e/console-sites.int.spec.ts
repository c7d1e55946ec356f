import { ConsoleBrowser, ensureConsoleBuilt, type TestAgent, until, V1 } from '@pressluft/e2e-harness';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent, type Obj } from '../../test/resource-api.js';

/**
 * The console's site pages in real Chromium against a real control plane and engine, with a
 * TestAgent playing node-a (its commands succeed unless told otherwise): fleet overview, sites
 * list, create form, site detail with its YAML editor and actions; a viewer's view.
 */
describe('the console: fleet, sites, a site', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  let browser: ConsoleBrowser;
  let operator: Page;
  let base: string;
  const { call, get, phaseOf, create } = resourceApi(() => fx);
  const commandsOf = async (site: string) => (await call<{ items: Obj[] }>(`${V1}/commands?site=${site}`)).body.items;
  /** ACTIVE with its latest generation converged (nothing in flight that a later test's agent behaviour could catch). */
  const settled = (name: string) =>
    until(`${name} settled`, async () => {
      const site = await get('sites', name);
      const converged = site?.status['observedGeneration'] === site?.metadata.generation && site?.status.conditions?.find((c) => c.type === 'Reconciling')?.status === 'False';
      return converged && site?.status.phase === 'ACTIVE' ? site : undefined;
    });
  /** Screenshot and axe-core (no serious or critical violation) of the page as it is now. */
  const check = async (page: Page, name: string) => {
    await ConsoleBrowser.screenshot(page, name);
    expect(await ConsoleBrowser.seriousViolations(page), name).toEqual([]);
  };
  const openTab = async (page: Page, site: string, tab: string) => {
    await page.goto(`${base}/sites/${site}`);
    await page.getByRole('button', { name: tab, exact: true }).click();
  };
  /** Replaces the YAML editor's text (select all, then insert: no auto-indent on the way). */
  const editYaml = async (page: Page, edit: (text: string) => string) => {
    const text = (await page.locator('.cm-line').allTextContents()).join('\n');
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(edit(text));
  };
  const confirmWith = async (page: Page, name: string) => {
    await page.getByTestId('confirm-input').fill(name);
    await page.getByTestId('confirm-button').click();
  };

  beforeAll(async () => {
    ({ fx, agent } = await startEngineWithAgent({ PRESSLUFT_CONSOLE_DIR: await ensureConsoleBuilt() }));
    base = fx.plane.httpUrl;
    browser = await ConsoleBrowser.launch();
    operator = await browser.signedIn(base, await fx.token('operator', 'olga'));
    // A step that does not happen fails with its own call log, well inside the test's time.
    operator.setDefaultTimeout(10_000);
  }, 180_000);

  // What the operator's tab showed when a test failed (test-artifacts/console/failed-*.png).
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await ConsoleBrowser.screenshot(operator, `failed-${task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await fx?.stop();
  });

  it('creates a site from the form (dry run, then the write) and shows it become ACTIVE live on its page', async () => {
    await operator.goto(`${base}/sites`);
    await operator.getByTestId('new-site').click();
    await operator.waitForURL(`${base}/sites/new`);
    await operator.getByLabel('Node').selectOption('node-a');
    await operator.getByLabel('Name').fill('web-a');
    await operator.getByLabel('Domains').fill('web-a.example.test');
    await operator.getByLabel('Site title').fill('Web A');
    await operator.getByLabel('Admin email').fill('ops@example.test');
    await check(operator, 'site-new');
    await operator.getByTestId('create-site').click();
    await operator.waitForURL(`${base}/sites/web-a`);
    await expect.poll(() => operator.getByTestId('site-phase').textContent(), { timeout: 20_000 }).toBe('ACTIVE');
    expect((await get('sites', 'web-a'))?.spec).toMatchObject({ nodeName: 'node-a', domains: ['web-a.example.test'], wordpress: { title: 'Web A', adminUser: 'admin' } });
    await settled('web-a');
    await check(operator, 'site-detail');
  });

  it('shows the API\'s message next to a bad field and creates nothing', async () => {
    await operator.goto(`${base}/sites/new`);
    await operator.getByLabel('Name').fill('bad-a');
    await operator.getByLabel('Domains').fill('bad-a.example.test');
    await operator.getByLabel('Site title').fill('Bad');
    await operator.getByLabel('Admin email').fill('not-an-email');
    await operator.getByLabel('WordPress version').focus();
    // The dry run on leaving the field already names it.
    await expect.poll(() => operator.locator('[data-field="spec.wordpress.adminEmail"]').textContent()).toContain('must be an email address');
    await operator.getByTestId('create-site').click();
    await expect.poll(() => operator.getByTestId('error').textContent()).toContain('Invalid');
    expect(await operator.getByLabel('Admin email').getAttribute('aria-invalid')).toBe('true');
    expect(operator.url()).toBe(`${base}/sites/new`);
    expect(await get('sites', 'bad-a')).toBeUndefined();
    await check(operator, 'site-new-invalid');
  });

  it('YAML editor: an invalid field is a lint error on its line and writes nothing; a valid save bumps the generation', async () => {
    const before = await settled('web-a');
    await openTab(operator, 'web-a', 'YAML');
    await operator.locator('.cm-line', { hasText: 'adminEmail:' }).waitFor();
    await editYaml(operator, (text) => text.replace(/adminEmail: .*/, 'adminEmail: nope'));
    await operator.getByTestId('yaml-validate').click();
    const cause = operator.locator('[data-testid="yaml-causes"] li[data-field="spec.wordpress.adminEmail"]');
    await expect.poll(() => cause.textContent()).toContain('must be an email address');
    const lineNumber = Number(await cause.getAttribute('data-line'));
    const texts = await operator.locator('.cm-line').allTextContents();
    expect(texts[lineNumber - 1]?.trim()).toBe('adminEmail: nope');
    expect(await operator.locator('.cm-lintRange-error').allTextContents()).toEqual(['adminEmail: nope']);
    await operator.getByTestId('yaml-save').click();
    await expect.poll(() => operator.getByTestId('error').textContent()).toContain('Invalid');
    const after = (await call(`${V1}/sites/web-a`)).body as Obj & { metadata: { resourceVersion: string } };
    expect(after.metadata.resourceVersion).toBe((before as Obj & { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    await check(operator, 'site-yaml-invalid');

    await editYaml(operator, (text) => text.replace(/adminEmail: .*/, 'adminEmail: web@example.test'));
    await operator.getByTestId('yaml-save').click();
    await expect.poll(() => operator.getByTestId('yaml-result').textContent()).toBe(`Saved: generation ${before.metadata.generation + 1}.`);
    expect((await get('sites', 'web-a'))?.spec).toMatchObject({ wordpress: { adminEmail: 'web@example.test' } });
    expect(await operator.locator('.cm-lintRange-error').count()).toBe(0);
    await settled('web-a');
  });

  it('rolls back to an older release after the name is typed: a RollbackSite command, followed live', async () => {
    // The test agent keeps no releases: the node's answer to the provision is sent by hand, with two.
    agent.behaviour = 'ignore';
    try {
      await create('sites', siteManifest('rb-a'));
      const command = await until('rb-a-1 taken', () => agent.received.find((r) => r.command.ref?.site === 'rb-a')?.command);
      const site = { currentRelease: '20261202T100000', releases: ['20261202T100000', '20261201T100000'], fingerprints: {}, fingerprintsComplete: false, currentCommit: '', deployPublicKey: '' };
      await agent.sendEvent(command, 1, { $case: 'accepted', value: {} });
      await agent.sendEvent(command, 2, { $case: 'succeeded', value: { message: 'provisioned', site } });
    } finally {
      agent.behaviour = 'succeed';
    }
    await until('rb-a releases', async () => ((await get('sites', 'rb-a'))?.status['releases'] as string[] | undefined)?.length === 2 || undefined);
    await settled('rb-a');
    await openTab(operator, 'rb-a', 'Releases');
    await operator.getByTestId('rollback').click();
    await check(operator, 'site-rollback-confirm');
    await confirmWith(operator, 'rb-a');
    await expect.poll(() => operator.getByTestId('command-state').textContent(), { timeout: 20_000 }).toBe('SUCCEEDED');
    const rollback = (await commandsOf('rb-a')).find((c) => c.spec['operation'] === 'RollbackSite');
    expect(agent.hostCalls.find((c) => c.site === 'rb-a' && c.operation === 'rollbackTo')).toMatchObject({ release: '20261201T100000' });
    expect(rollback?.status['state']).toBe('SUCCEEDED');
  });

  it('backs up now, then restores that backup after the name is typed (a pre-restore backup first)', async () => {
    await openTab(operator, 'web-a', 'Backups');
    await operator.getByTestId('back-up-now').click();
    const row = operator.getByTestId('backup-row');
    const backup = String(await row.getAttribute('data-backup'));
    expect((await phaseOf('backups', backup, 'SUCCEEDED')).spec).toMatchObject({ site: 'web-a' });
    // The page follows the watch: the row's phase within a second or two.
    await expect.poll(() => row.getByTestId('backup-phase').textContent(), { timeout: 5_000 }).toBe('SUCCEEDED');
    await check(operator, 'site-backups');
    await row.getByTestId('restore').click();
    expect(await operator.getByTestId('confirm').textContent()).toContain('backup of the site as it is now is taken first');
    await confirmWith(operator, 'web-a');
    const restore = await until('a Restore of the backup', async () => (await call<{ items: Obj[] }>(`${V1}/restores`)).body.items.find((r) => r.spec['backup'] === backup));
    expect(restore.spec).toMatchObject({ site: 'web-a' });
    await phaseOf('restores', restore.metadata.name, 'SUCCEEDED');
    await expect.poll(() => operator.getByTestId('backup-row').count(), { timeout: 20_000 }).toBe(2);
    expect((await commandsOf('web-a')).map((c) => c.spec['operation'])).toEqual(expect.arrayContaining(['BackupSite', 'RestoreSite']));
    await openTab(operator, 'web-a', 'Events');
    await expect.poll(() => operator.locator('[data-testid="event-row"][data-reason="BackedUp"]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await check(operator, 'site-events');
    await openTab(operator, 'web-a', 'Commands');
    await check(operator, 'site-commands');
  });

  it('edits the spec in the form, checks drift, clones to staging and syncs content down into the clone', async () => {
    const before = await settled('web-a');
    await openTab(operator, 'web-a', 'Spec');
    await operator.getByLabel('Site title').fill('Web A two');
    await operator.getByTestId('save-spec').click();
    await expect.poll(() => operator.getByRole('status').textContent()).toContain(`generation ${before.metadata.generation + 1}`);
    expect((await get('sites', 'web-a'))?.spec).toMatchObject({ wordpress: { title: 'Web A two' } });
    await check(operator, 'site-spec');
    await settled('web-a');

    await openTab(operator, 'web-a', 'Overview');
    await operator.getByTestId('check-drift').click();
    await expect.poll(() => operator.getByTestId('command-state').textContent(), { timeout: 20_000 }).toBe('SUCCEEDED');
    expect((await commandsOf('web-a')).map((c) => c.spec['operation'])).toContain('CheckDrift');

    await openTab(operator, 'web-a', 'Environments');
    await operator.getByTestId('clone-domain').fill('web-a-staging.example.test');
    await check(operator, 'site-environments');
    await operator.getByTestId('clone').click();
    await operator.waitForURL(`${base}/sites/web-a-staging`);
    expect((await get('sites', 'web-a-staging'))?.spec).toMatchObject({ environment: 'staging', source: { clone: { site: 'web-a' } }, domains: ['web-a-staging.example.test'] });
    await expect.poll(() => operator.getByTestId('site-phase').textContent(), { timeout: 30_000 }).toBe('ACTIVE');
    await settled('web-a-staging');
    await operator.getByRole('button', { name: 'Environments', exact: true }).click();
    await operator.getByTestId('sync-from').selectOption('web-a');
    await operator.getByRole('button', { name: 'Sync content' }).click();
    await confirmWith(operator, 'web-a-staging');
    await expect.poll(() => operator.getByTestId('environment-created').textContent()).toContain('ContentSync');
    const syncs = (await call<{ items: Obj[] }>(`${V1}/contentsyncs`)).body.items;
    expect(syncs.map((c) => c.spec)).toEqual([{ from: 'web-a', to: 'web-a-staging', parts: ['database', 'uploads'] }]);
  }, 120_000);

  it('rotates a site\'s credentials and deletes it, each after its name is typed', async () => {
    await settled('rb-a');
    await openTab(operator, 'rb-a', 'Overview');
    await operator.getByRole('button', { name: 'Rotate credentials' }).click();
    await confirmWith(operator, 'rb-a');
    await expect.poll(() => operator.getByTestId('command-state').textContent(), { timeout: 20_000 }).toBe('SUCCEEDED');
    expect((await commandsOf('rb-a')).map((c) => c.spec['operation'])).toContain('RotateCredentials');
    await settled('rb-a');
    await operator.getByTestId('delete-site').click();
    await operator.getByTestId('confirm-input').fill('rb-');
    expect(await operator.getByTestId('confirm-button').isDisabled()).toBe(true);
    await confirmWith(operator, 'rb-a');
    await operator.waitForURL(`${base}/sites`);
    await until('rb-a gone', async () => ((await call(`${V1}/sites/rb-a`)).status === 404 ? true : undefined), 30_000);
  });

  it('the fleet overview lists a failing site live, with its reason', async () => {
    await operator.goto(`${base}/`);
    await expect.poll(() => operator.locator('[data-testid="node-row"][data-node="node-a"]').textContent()).toContain('True');
    agent.behaviour = 'fail';
    try {
      await create('sites', siteManifest('fail-a'));
      const row = operator.locator('[data-testid="attention-row"][data-site="fail-a"]');
      await expect.poll(() => row.getByTestId('site-phase').textContent(), { timeout: 20_000 }).toBe('FAILED');
    } finally {
      agent.behaviour = 'succeed';
    }
    await check(operator, 'fleet-overview');
  });

  it('a viewer sees no mutating control on the sites list and a site\'s page', async () => {
    const viewer = await browser.signedIn(base, await fx.token('viewer', 'vera'));
    await viewer.goto(`${base}/sites`);
    await viewer.locator('[data-testid="site-row"][data-site="web-a"]').waitFor();
    expect(await viewer.getByTestId('new-site').count()).toBe(0);
    await check(viewer, 'sites-viewer');
    const mutating = /Roll back|Back up now|Restore|Delete site|Check drift|Rotate|Save|Validate|Clone|Sync|Promote|Retry|Abandon/;
    await viewer.goto(`${base}/sites/web-a`);
    await viewer.getByTestId('site-phase').waitFor();
    expect(await viewer.getByRole('button', { name: 'Environments' }).count()).toBe(0);
    for (const tab of ['Overview', 'Spec', 'YAML', 'Releases', 'Backups', 'Commands', 'Events']) {
      await viewer.getByRole('button', { name: tab, exact: true }).click();
      expect(await viewer.getByRole('button', { name: mutating }).count(), tab).toBe(0);
    }
    await viewer.getByRole('button', { name: 'Spec', exact: true }).click();
    expect(await viewer.getByLabel('Site title').isDisabled()).toBe(true);
    await viewer.context().close();
  });

  it('lists 300 sites in a virtual scroll (a window of rows), searches them and filters by label on the server', async () => {
    // Cordoned: the sites stay PENDING (nothing to schedule them on), no command each.
    expect((await call(`${V1}/nodes/node-a`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { unschedulable: true } } })).status).toBe(200);
    const names = Array.from({ length: 300 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name, j) => {
        const { spec } = siteManifest(name) as { spec: Record<string, unknown> };
        const { nodeName: _, ...unbound } = spec;
        return create('sites', { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name, labels: { team: (i + j) % 3 === 0 ? 'red' : 'blue' } }, spec: unbound });
      }));
    }
    await operator.goto(`${base}/sites`);
    await expect.poll(() => operator.getByTestId('site-count').textContent(), { timeout: 20_000 }).toMatch(/^30\d of 30\d sites$/);
    const rendered = await operator.getByTestId('site-row').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    await check(operator, 'sites-list');
    await operator.getByTestId('site-search').fill('bulk-0042');
    await expect.poll(() => operator.getByTestId('site-row').count()).toBe(1);
    expect(await operator.getByTestId('site-row').getAttribute('data-site')).toBe('bulk-0042');
    await operator.getByTestId('site-search').fill('');
    await operator.getByTestId('label-selector').fill('team=red');
    await operator.getByTestId('label-selector').press('Enter');
    await expect.poll(() => operator.getByTestId('site-count').textContent()).toBe('100 of 100 sites');
    await operator.getByTestId('sites-viewport').evaluate((el: { scrollTop: number; scrollHeight: number }) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect.poll(() => operator.locator('[data-testid="site-row"][data-site="bulk-0297"]').count()).toBe(1);
  }, 120_000);
});
