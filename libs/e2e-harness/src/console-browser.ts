import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run } from '@pressluft/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const REPO = repoRoot(__dirname);
/** Debian's chromium (tools/dev test installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** The console's build the control plane serves in tests (PRESSLUFT_CONSOLE_DIR). */
export function consoleDir(): string {
  return join(REPO, 'dist/apps/console/browser');
}

/** Builds the console when no build is there (tools/dev test builds it before the tests). */
export async function ensureConsoleBuilt(): Promise<string> {
  if (!existsSync(join(consoleDir(), 'index.html'))) {
    await run([join(REPO, 'node_modules/.bin/nx'), 'run', 'console:build', '--skip-nx-cache'], { cwd: REPO, env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
  }
  return consoleDir();
}

/** Where browser tests leave their screenshots: test-artifacts/console/ (gitignored), or $PRESSLUFT_TEST_ARTIFACTS/console. */
export function artifactsDir(): string {
  const dir = join(process.env['PRESSLUFT_TEST_ARTIFACTS'] ?? join(REPO, 'test-artifacts'), 'console');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: number;
}

/**
 * Real Chromium driven by playwright-core. One browser per spec; a context per user (a tab's
 * sessionStorage is its own). Contexts bypass the console's CSP only so that axe-core can be
 * injected for the accessibility check; the CSP itself is asserted by the serving tests.
 */
export class ConsoleBrowser {
  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<ConsoleBrowser> {
    // As root (the test machine), Chromium needs --no-sandbox; /dev/shm may be small.
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    return new ConsoleBrowser(browser);
  }

  async context(): Promise<BrowserContext> {
    return this.browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
  }

  /** A new tab at `baseUrl` signed in with `token` through the sign-in form. */
  async signedIn(baseUrl: string, token: string): Promise<Page> {
    const page = await (await this.context()).newPage();
    await page.goto(`${baseUrl}/sign-in`);
    await page.getByTestId('token-input').fill(token);
    await page.getByTestId('sign-in-button').click();
    await page.getByTestId('principal').waitFor();
    return page;
  }

  /** A full-page screenshot as a test artifact; its path. */
  static async screenshot(page: Page, name: string): Promise<string> {
    const path = join(artifactsDir(), `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  /** axe-core on the page as it is now: the violations of impact serious or critical. */
  static async seriousViolations(page: Page): Promise<AxeViolation[]> {
    await page.addScriptTag({ content: readFileSync(join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8') });
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } }).axe;
      const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.length }));
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
