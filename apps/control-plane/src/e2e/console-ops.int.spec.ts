import { api, ConsoleBrowser, ensureConsoleBuilt, V1, type TestAgent } from '@pressluft/e2e-harness';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent } from '../../test/resource-api.js';

/*
 * The console's operations pages in real Chromium against a real control plane with its engine
 * and a TestAgent as node-a: a command's log followed while it runs (the agent's 'slow'
 * behaviour streams progress and log lines), a stalled command retried, events arriving live,
 * cordon, a join token with its install command shown once, API tokens created and revoked, the
 * audit log of all that, filtered and paged; a viewer sees none of the controls. Every page is
 * screenshot and checked with axe-core.
 */

const POLL = { timeout: 30_000, interval: 200 };

/** For evaluateAll (run in the page; typed here without the DOM's types): one attribute of each element. */
const attributes = (elements: Array<{ getAttribute(name: string): string | null }>, name: string) => elements.map((e) => e.getAttribute(name));
/** For evaluateAll: each element's text, trimmed. */
const texts = (elements: Array<{ textContent: string | null }>) => elements.map((e) => (e.textContent ?? '').trim());
/** Each row's cells, space-separated (for evaluateAll on table rows). */
const cellTexts = (rows: Array<{ querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> }>) =>
  rows.map((row) => Array.from(row.querySelectorAll('td'), (cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()).join(' '));

describe('the console: nodes, commands, events, tokens, audit log', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  let browser: ConsoleBrowser;
  let base: string;
  let admin: Page;
  const { create } = resourceApi(() => fx);

  const visit = async (page: Page, path: string) => {
    await page.goto(`${base}${path}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
  };
  const checkPage = async (page: Page, name: string) => {
    await ConsoleBrowser.screenshot(page, name);
    expect(await ConsoleBrowser.seriousViolations(page), name).toEqual([]);
  };
  const confirmByName = async (page: Page, name: string) => {
    await page.getByTestId('confirm-input').fill(name);
    await page.getByTestId('confirm-button').click();
  };

  beforeAll(async () => {
    // A short stall window: a silent command is STALLED within seconds.
    ({ fx, agent } = await startEngineWithAgent({ PRESSLUFT_CONSOLE_DIR: await ensureConsoleBuilt(), PRESSLUFT_STALL_WINDOW_MS: '3000' }));
    base = fx.plane.httpUrl;
    browser = await ConsoleBrowser.launch();
    admin = await browser.signedIn(base, fx.adminToken);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await fx?.stop();
  });

  it("follows a command's progress and log live while it runs", async () => {
    agent.behaviour = 'slow';
    try {
      await visit(admin, '/commands/live-1');
      await create('sites', siteManifest('live'));
      const log = admin.getByTestId('command-log');
      // Seen while RUNNING: the first lines arrive before the last step is done.
      await expect.poll(async () => ({ state: await admin.getByTestId('command-state').textContent(), log: await log.textContent() }), POLL).toMatchObject({
        state: 'RUNNING',
        log: expect.stringContaining('download done (1/4)'),
      });
      expect(await log.textContent()).not.toContain('verify done (4/4)');
      await expect.poll(() => admin.getByTestId('command-state').textContent(), POLL).toBe('SUCCEEDED');
      expect(await log.textContent()).toContain('provision live: verify done (4/4)');
      expect(await admin.getByTestId('command-spec').textContent()).toMatch(/Operation\s*ProvisionSite.*Site\s*live.*Node\s*node-a.*Fence\s*1.*Generation\s*1/s);
      await checkPage(admin, 'command-detail');
    } finally {
      agent.behaviour = 'succeed';
    }
  });

  it('lets an operator retry a stalled command after typing its name, and lists it as failed', async () => {
    const operator = await browser.signedIn(base, await fx.token('operator', 'olga'));
    agent.behaviour = 'hang';
    await create('sites', siteManifest('stuck'));
    await visit(operator, '/commands/stuck-1');
    await expect.poll(() => operator.getByTestId('command-state').textContent(), POLL).toBe('STALLED');
    agent.behaviour = 'succeed';
    await operator.getByTestId('retry').click();
    expect(await operator.getByTestId('confirm-button').isDisabled()).toBe(true);
    await confirmByName(operator, 'stuck-1');
    await operator.waitForURL(`${base}/commands/stuck-2`);
    await expect.poll(() => operator.getByTestId('command-state').textContent(), POLL).toBe('SUCCEEDED');

    await visit(operator, '/commands?state=FAILED');
    const failed = operator.getByTestId('command-row');
    await expect.poll(() => failed.evaluateAll(attributes, 'data-command'), POLL).toEqual(['stuck-1']);
    expect(await failed.first().getAttribute('class')).toContain('attention');
    await visit(operator, '/commands');
    await expect.poll(() => operator.getByTestId('command-row').count(), POLL).toBeGreaterThanOrEqual(3);
    await checkPage(operator, 'commands');
    await operator.context().close();
  });

  it('shows events as they happen, filtered by object, type and reason', async () => {
    await visit(admin, '/events?involvedObject=sites/fresh');
    expect(await admin.getByTestId('event-row').count()).toBe(0);
    await create('sites', siteManifest('fresh'));
    await expect.poll(() => admin.getByTestId('event-row').count(), POLL).toBeGreaterThan(0);
    await visit(admin, '/events');
    await admin.getByTestId('filter-type').selectOption('Warning');
    await expect.poll(() => admin.locator('[data-testid="event-row"][data-reason="CommandStalled"]').count(), POLL).toBeGreaterThan(0);
    expect((await admin.getByTestId('event-row').evaluateAll(cellTexts)).filter((row) => !row.startsWith('⚠ Warning'))).toEqual([]);
    await admin.getByTestId('filter-reason').fill('CommandStalled');
    await admin.getByTestId('filter-object').fill('sites/stuck');
    await admin.getByTestId('filter-object').press('Enter');
    await admin.waitForURL(/involvedObject=sites%2Fstuck/);
    await expect.poll(() => admin.getByTestId('event-row').evaluateAll(attributes, 'data-reason'), POLL).toEqual(['CommandStalled']);
    await checkPage(admin, 'events');
  });

  it('cordons a node after its name is typed, and creates a join token shown once with its install command', async () => {
    await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await visit(admin, '/nodes');
    const row = admin.locator('[data-testid="node-row"][data-node="node-a"]');
    await expect.poll(() => row.getByTestId('node-ready').textContent(), POLL).toContain('True');
    await row.getByTestId('cordon').click();
    await confirmByName(admin, 'node-a');
    await expect.poll(() => row.getByTestId('node-scheduling').textContent(), POLL).toContain('Cordoned');
    expect((await resourceApi(() => fx).get('nodes', 'node-a'))?.spec['unschedulable']).toBe(true);

    await admin.getByTestId('join-node').fill('web-2');
    await admin.getByTestId('join-node').press('Enter');
    const command = (await admin.getByTestId('install-command').textContent()) ?? '';
    const token = /plj_[A-Za-z0-9_-]{43}/.exec(command)?.[0] ?? '';
    expect(token).not.toBe('');
    // The token reaches the node on stdin (a here-document), never as an argument.
    expect(command).toContain(`(umask 077 && cat > /etc/pressluft/join-token) <<'JOIN_TOKEN'\n${token}\nJOIN_TOKEN`);
    expect(command.split('\n').filter((line) => line.includes(token))).toEqual([token]);
    expect(command).toContain('PRESSLUFT_AGENT_NODE=web-2');
    expect(command).toContain('PRESSLUFT_AGENT_ENROLL_ENDPOINT=127.0.0.1:8444');
    expect(command).toContain('systemctl enable --now pressluft-agent');
    await admin.getByRole('button', { name: 'Copy install command' }).click();
    await expect.poll(() => admin.getByTestId('copy-status').textContent()).toBe('Copied to the clipboard.');
    expect(await admin.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe(command);
    await expect.poll(() => admin.locator('[data-testid="join-token-row"][data-node="web-2"]').getByTestId('join-token-state').textContent()).toBe('Pending');
    await checkPage(admin, 'nodes');
    await admin.getByRole('button', { name: 'Done' }).click();
    await admin.reload();
    await admin.getByTestId('join-token-row').first().waitFor();
    expect(await admin.content()).not.toContain(token);

    await row.getByTestId('uncordon').click();
    await expect.poll(() => row.getByTestId('node-scheduling').textContent(), POLL).toContain('Schedulable');
  });

  it('creates an API token shown once, refuses a bad subject on its field, and revokes after the subject is typed', async () => {
    await visit(admin, '/tokens');
    await admin.getByTestId('token-subject').fill('Bad Subject');
    await admin.getByTestId('token-create').click();
    await expect.poll(() => admin.getByTestId('token-subject-error').textContent()).toContain('lower-case letter');
    await admin.getByTestId('token-subject').fill('ci-bot');
    await admin.getByTestId('token-role').selectOption('operator');
    await admin.getByTestId('token-create').click();
    const token = (await admin.getByTestId('token-value').textContent()) ?? '';
    expect((await api(base, '/auth/v1/whoami', { token })).body).toEqual({ subject: 'ci-bot', role: 'operator' });
    await checkPage(admin, 'tokens');
    const row = admin.locator('[data-testid="token-row"][data-subject="ci-bot"]');
    await row.getByTestId('token-revoke').click();
    await confirmByName(admin, 'ci-bot');
    await expect.poll(() => row.getByTestId('token-state').textContent()).toContain('Revoked');
    expect((await api(base, '/auth/v1/whoami', { token })).status).toBe(401);
  });

  it('shows the audit log of those actions, filtered on the server and paged', async () => {
    const viewer = await fx.token('viewer', 'vic');
    // More refusals than one page holds (100), so "Load older" has something to load.
    for (let i = 0; i < 105; i += 1) expect((await api(base, `${V1}/nodes/node-a`, { method: 'DELETE', token: viewer })).status).toBe(403);
    await visit(admin, '/audit');
    const rows = admin.getByTestId('audit-row');
    await expect.poll(() => rows.count(), POLL).toBe(100);
    await admin.getByTestId('audit-older').click();
    await expect.poll(() => rows.count(), POLL).toBeGreaterThan(110);

    await admin.getByTestId('audit-verb').selectOption('PATCH');
    await admin.getByTestId('audit-search').click();
    await expect.poll(() => rows.evaluateAll(cellTexts)).toEqual([
      expect.stringMatching(/admin PATCH \/apis\/pressluft\.io\/v1\/nodes\/node-a ok 200/),
      expect.stringMatching(/admin PATCH \/apis\/pressluft\.io\/v1\/nodes\/node-a ok 200/),
    ]);
    await admin.getByTestId('audit-verb').selectOption('');
    await admin.getByTestId('audit-subject').fill('olga');
    await admin.getByTestId('audit-search').click();
    await expect.poll(() => rows.evaluateAll(cellTexts)).toEqual([expect.stringMatching(/olga POST \/apis\/pressluft\.io\/v1\/commands\/stuck-1\/retry ok 201/)]);
    await admin.getByTestId('audit-subject').fill('vic');
    await admin.getByTestId('audit-outcome').selectOption('refused');
    await admin.getByTestId('audit-path').fill('/apis/pressluft.io/v1/nodes');
    await admin.getByTestId('audit-search').click();
    await expect.poll(() => rows.count()).toBe(100);
    expect(await admin.getByTestId('audit-result').first().textContent()).toContain('refused 403 · Forbidden');
    await admin.getByTestId('audit-path').fill('/auth/v1/tokens');
    await admin.getByTestId('audit-subject').fill('admin');
    await admin.getByTestId('audit-outcome').selectOption('ok');
    await admin.getByTestId('audit-search').click();
    await expect.poll(() => rows.evaluateAll(attributes, 'data-verb')).toEqual(['DELETE', 'POST']);
    await checkPage(admin, 'audit');
  });

  it('shows a viewer no mutating control and no tokens or audit page', async () => {
    const viewer = await browser.signedIn(base, await fx.token('viewer', 'vera'));
    expect(await viewer.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    // Each page once its data is there (the row controls depend on it); none but signing out and filtering.
    const loaded: Record<string, string | undefined> = { '/nodes': 'node-row', '/commands': 'command-row', '/commands/stuck-1': 'command-spec', '/events': 'event-row', '/tokens': undefined, '/audit': undefined };
    for (const [path, testId] of Object.entries(loaded)) {
      await visit(viewer, path);
      if (testId) await viewer.getByTestId(testId).first().waitFor();
      const controls = await viewer.getByRole('button').evaluateAll(texts);
      expect(controls.filter((name) => !['Sign out', 'Filter'].includes(name)), path).toEqual([]);
    }
    expect(await viewer.getByText('Only admins read the audit log.').count()).toBe(1);
    await visit(viewer, '/nodes');
    await viewer.getByTestId('node-row').first().waitFor();
    await checkPage(viewer, 'nodes-viewer');
    await viewer.context().close();
  });
});
