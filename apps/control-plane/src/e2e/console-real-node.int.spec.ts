import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { siteShortId } from '../engine/site-config.js';
import { ConsoleBrowser, ControlPlaneProcesses, ensureConsoleBuilt, NodeStack, type AgentProcess } from '@pressluft/e2e-harness';
import { httpRequest } from '@pressluft/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const NODE = 'local';
const SITE = 'console-wp';
const DOMAIN = 'console-wp.example.test';

/**
 * The console on the whole system: the compiled control plane serving it, a real agent on a real
 * node stack (nginx, PHP-FPM, MariaDB, WordPress), real Chromium. What an operator sees: a site
 * made in the form becomes a WordPress site, its provisioning's log streams while it runs, a hand
 * edit on the node shows up as drift without a reload, a delete confirmed by name removes it.
 */
describe('the console with a real node', () => {
  const services = inject('services');
  let processes: ControlPlaneProcesses;
  let stack: NodeStack;
  let agent: AgentProcess | undefined;
  let browser: ConsoleBrowser;
  let page: Page;
  const check = async (name: string) => {
    await ConsoleBrowser.screenshot(page, name);
    expect(await ConsoleBrowser.seriousViolations(page), name).toEqual([]);
  };

  beforeAll(async () => {
    const consoleDir = await ensureConsoleBuilt();
    processes = await ControlPlaneProcesses.build();
    stack = await NodeStack.start(processes, services, 'console', { env: { PRESSLUFT_CONSOLE_DIR: consoleDir } });
    agent = await stack.startAgent(NODE);
    await stack.waitNodeReady(NODE, 60_000);
    browser = await ConsoleBrowser.launch();
    page = await browser.signedIn(stack.replica.url, processes.adminToken);
    page.setDefaultTimeout(15_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (stack) {
      if ((await stack.call(`/apis/pressluft.io/v1/sites/${SITE}`)).status === 200) {
        await stack.call(`/apis/pressluft.io/v1/sites/${SITE}`, { method: 'DELETE' });
        await stack.waitSiteGone(SITE, 90_000).catch(() => undefined);
      }
      if (agent) await stack.stopAgent(agent);
      await stack.stop();
    }
    await processes?.stop();
  }, 180_000);

  it('a site made in the form becomes WordPress; the provisioning log streams on its page while it runs', async () => {
    await page.goto(`${stack.replica.url}/sites/new`);
    await page.getByLabel('Node').selectOption(NODE);
    await page.getByLabel('Name').fill(SITE);
    await page.getByLabel('Domains').fill(DOMAIN);
    await page.getByLabel('Site title').fill('Console WordPress');
    await page.getByLabel('Admin email').fill('ops@example.test');
    await page.getByTestId('create-site').click();
    await page.waitForURL(`${stack.replica.url}/sites/${SITE}`);
    await page.getByRole('button', { name: 'Commands', exact: true }).click();
    // The running ProvisionSite, live: its log gains lines before it ends.
    const progress = page.getByTestId('command-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 60_000 }).toBe('RUNNING');
    await expect.poll(async () => (await page.getByTestId('command-log').textContent())?.split('\n').filter((l) => l !== '').length ?? 0, { timeout: 60_000 }).toBeGreaterThan(2);
    await check('real-node-provisioning');
    await expect.poll(() => page.getByTestId('site-phase').textContent(), { timeout: 120_000 }).toBe('ACTIVE');
    const front = await httpRequest(`http://127.0.0.1:${stack.sitesPort}/`, { host: DOMAIN });
    expect(front.status).toBe(200);
    expect(front.body).toContain('Console WordPress');
  }, 240_000);

  it('a hand edit of the site\'s server block on the node shows as drift on the open page, no reload', async () => {
    const site = await stack.site(SITE);
    const block = join(services.nginx.sitesDir, `site_${siteShortId(site?.metadata.uid ?? '')}.conf`);
    const rendered = readFileSync(block, 'utf8');
    await page.getByRole('button', { name: 'Overview', exact: true }).click();
    const drifted = page.locator('tr[data-condition="Drifted"]');
    try {
      writeFileSync(block, `${rendered}# edited by hand on the node\n`);
      // The node's report timer notices it; the watch stream brings it to the page.
      await expect.poll(async () => (await drifted.textContent()) ?? '', { timeout: 30_000 }).toContain('nginx server block differs');
      expect(await drifted.locator('td').nth(1).textContent()).toBe('True');
      await expect.poll(() => page.getByTestId('drift-summary').textContent()).toContain('Drifted');
      await check('real-node-drifted');
    } finally {
      writeFileSync(block, rendered);
    }
    await expect.poll(async () => drifted.locator('td').nth(1).textContent(), { timeout: 30_000 }).toBe('False');
  }, 120_000);

  it('deleting it asks for its name; the sites list shows it go once the node is cleaned', async () => {
    await page.getByTestId('delete-site').click();
    await page.getByTestId('confirm-input').fill(SITE.slice(0, -1));
    expect(await page.getByTestId('confirm-button').isDisabled()).toBe(true);
    await page.getByTestId('confirm-input').fill(SITE);
    await page.getByTestId('confirm-button').click();
    await page.waitForURL(`${stack.replica.url}/sites`);
    // Backed up first, then removed from the node: the row (there once the list is drawn) goes when the finalizer is done.
    const row = page.locator(`[data-testid="site-row"][data-site="${SITE}"]`);
    await row.waitFor();
    await expect.poll(() => row.count(), { timeout: 120_000 }).toBe(0);
    expect((await stack.call(`/apis/pressluft.io/v1/sites/${SITE}`)).status).toBe(404);
    expect((await httpRequest(`http://127.0.0.1:${stack.sitesPort}/`, { host: DOMAIN }).catch(() => ({ status: 0 }))).status).not.toBe(200);
  }, 180_000);
});
