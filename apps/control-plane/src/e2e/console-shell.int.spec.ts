import { ConsoleBrowser, ensureConsoleBuilt } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

/** The console as the control plane serves it, in real Chromium: sign-in, the shell, the role's navigation. */
describe('the console: served at /, sign-in with a token, the shell by role', () => {
  let fx: ControlPlaneFixture;
  let browser: ConsoleBrowser;
  let base: string;

  beforeAll(async () => {
    const dir = await ensureConsoleBuilt();
    fx = await startControlPlaneFixture({ env: { PRESSLUFT_CONSOLE_DIR: dir } });
    base = fx.plane.httpUrl;
    browser = await ConsoleBrowser.launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await fx?.stop();
  });

  it('serves the console on its paths with a strict CSP, and leaves the API its own', async () => {
    for (const path of ['/', '/sites/shop', '/commands']) {
      const page = await fetch(`${base}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain('<pl-root>');
    }
    const html = await (await fetch(`${base}/`)).text();
    const script = /src="(main-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${base}/${script ?? ''}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/missing-ABCDEFGH.js`)).status).toBe(404);
    // The API's paths are the API's: a Status, not the console.
    const api = await fetch(`${base}/apis/pressluft.io/v1/sites`);
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  });

  it('refuses a token the API does not know and keeps the user on the sign-in page', async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${base}/sites`);
    await page.waitForURL(/\/sign-in\?next=%2Fsites$/);
    await page.getByTestId('token-input').fill('plt_not-a-token');
    await page.getByTestId('sign-in-button').click();
    await expect.poll(() => page.getByTestId('sign-in-error').textContent()).toContain('does not know this token');
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    await ConsoleBrowser.screenshot(page, 'sign-in-refused');
    expect(await ConsoleBrowser.seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('signs an admin in (back to the page asked for), keeps the token for the tab only, and shows the admin pages', async () => {
    const context = await browser.context();
    const page = await context.newPage();
    await page.goto(`${base}/nodes`);
    await page.getByTestId('token-input').fill(fx.adminToken);
    await page.getByTestId('sign-in-button').click();
    await page.waitForURL(`${base}/nodes`);
    expect(await page.getByTestId('principal').textContent()).toBe('admin (admin)');
    expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(1);
    // sessionStorage, not localStorage: a new tab starts signed out.
    expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { length: number } }).localStorage.length)).toBe(0);
    const other = await context.newPage();
    await other.goto(`${base}/sites`);
    await other.waitForURL(/\/sign-in/);
    await context.close();
  });

  it('a viewer sees no admin page in the navigation', async () => {
    const page = await browser.signedIn(base, await fx.token('viewer', 'vera'));
    expect(await page.getByTestId('principal').textContent()).toBe('vera (viewer)');
    expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);
    await page.context().close();
  });
});
