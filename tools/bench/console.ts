/**
 * tools/bench/console: the console's budgets, each beside a raw baseline from the same run.
 * 1. Initial JavaScript (the scripts index.html loads and preloads), gzip and brotli, beside its
 *    raw size. Goal: <= 250 KB compressed.
 * 2. Time to the sites list with BENCH_SITES (1,000) sites on loopback: a new tab (signed in)
 *    opening /sites until its first row is drawn, beside the same tab's raw fetch of the list
 *    (the API alone). Goal: <= 1.0 s.
 * 3. Watch latency, a write to the DOM: a PATCH of a site's domains until the sites list shows
 *    them, beside a watch client in this process receiving the same MODIFIED event. Goal: p99
 *    <= 500 ms.
 * The control plane runs in this process (its engine off: the sites stay PENDING, no node needed),
 * Chromium is Debian's (playwright-core). A benchmark: it prints numbers and asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { ConsoleBrowser, ensureConsoleBuilt } from '@pressluft/e2e-harness';
import type { Page } from 'playwright-core';
import { runBenchmark, withBenchPlane, type BenchPlane } from './bench-plane.js';

const SITES = Number(process.env['BENCH_SITES'] ?? 1000);
const LOADS = Number(process.env['BENCH_LOADS'] ?? 7);
const WRITES = Number(process.env['BENCH_WRITES'] ?? 50);
const V1 = '/apis/pressluft.io/v1';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const msText = (values: readonly number[]) => `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;

/** The initial scripts of the build: index.html's script tags and module preloads. */
function initialJavaScript(dir: string): { raw: number; gzip: number; brotli: number; files: string[] } {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [...new Set([...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1] ?? ''))];
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  for (const file of files) {
    const bytes = readFileSync(join(dir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    brotli += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return { raw, gzip, brotli, files };
}

async function api(bench: BenchPlane, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<void> {
  const response = await fetch(`${bench.plane.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${bench.token}`, 'content-type': contentType }, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

async function createSites(bench: BenchPlane): Promise<void> {
  const names = Array.from({ length: SITES }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map((name) =>
        api(bench, 'POST', `${V1}/sites`, {
          apiVersion: 'pressluft.io/v1',
          kind: 'Site',
          metadata: { name, labels: { team: i % 2 === 0 ? 'web' : 'shop' } },
          spec: { domains: [`${name}.example.test`], wordpress: { version: '6.1', title: name, adminUser: 'admin', adminEmail: 'ops@example.test' } },
        }),
      ),
    );
  }
}

/** A tab with the token already in its sessionStorage (as after a sign-in). */
async function tab(browser: ConsoleBrowser, bench: BenchPlane): Promise<Page> {
  const page = await (await browser.context()).newPage();
  await page.addInitScript((token: string) => sessionStorage.setItem('pressluft.token', token), bench.token);
  return page;
}

async function timeToList(browser: ConsoleBrowser, bench: BenchPlane): Promise<{ console: number[]; raw: number[] }> {
  const consoleMs: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const page = await tab(browser, bench);
    const started = Date.now();
    await page.goto(`${bench.plane.httpUrl}/sites`);
    await page.locator('[data-testid="site-row"]').first().waitFor();
    consoleMs.push(Date.now() - started);
    rawMs.push(
      await page.evaluate(async (token: string) => {
        const t0 = performance.now();
        const response = await fetch('/apis/pressluft.io/v1/sites', { headers: { authorization: `Bearer ${token}` } });
        await response.json();
        return performance.now() - t0;
      }, bench.token),
    );
    await page.context().close();
  }
  return { console: consoleMs, raw: rawMs };
}

/** Resolves with the time (Date.now()) each MODIFIED of `site` arrives on a watch stream in this process. */
function watchArrivals(bench: BenchPlane, site: string): { next: () => Promise<number>; stop: () => void } {
  const waiting: Array<(at: number) => void> = [];
  const req = request(`${bench.plane.httpUrl}${V1}/sites?watch=true&fieldSelector=metadata.name%3D${site}`, { headers: { authorization: `Bearer ${bench.token}` } }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"MODIFIED"')) waiting.shift()?.(Date.now());
    });
  });
  req.end();
  return { next: () => new Promise((resolve) => waiting.push(resolve)), stop: () => req.destroy() };
}

async function watchLatency(browser: ConsoleBrowser, bench: BenchPlane): Promise<{ dom: number[]; raw: number[] }> {
  const site = 'bench-00000';
  const page = await tab(browser, bench);
  await page.goto(`${bench.plane.httpUrl}/sites`);
  const row = page.locator(`[data-testid="site-row"][data-site="${site}"]`);
  await row.waitFor();
  const watch = watchArrivals(bench, site);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const dom: number[] = [];
  const raw: number[] = [];
  try {
    for (let i = 1; i <= WRITES; i++) {
      const domain = `w${i}.${site}.example.test`;
      const arrived = watch.next();
      const shown = row.filter({ hasText: domain }).waitFor({ timeout: 10_000 }).then(() => Date.now());
      const t0 = Date.now();
      await api(bench, 'PATCH', `${V1}/sites/${site}`, { spec: { domains: [`${site}.example.test`, domain] } }, 'application/merge-patch+json');
      raw.push((await arrived) - t0);
      dom.push((await shown) - t0);
    }
  } finally {
    watch.stop();
    await page.context().close();
  }
  return { dom, raw };
}

async function main(): Promise<void> {
  const dir = await ensureConsoleBuilt();
  const js = initialJavaScript(dir);
  console.log(`initial JavaScript (${js.files.join(', ')}): ${kb(js.gzip)} gzip, ${kb(js.brotli)} brotli   [raw ${kb(js.raw)}]   goal <= 250 KB compressed`);
  await withBenchPlane({ PRESSLUFT_ENGINE: 'false', PRESSLUFT_CONSOLE_DIR: dir }, async (bench) => {
    const started = Date.now();
    await createSites(bench);
    console.log(`${SITES} sites created through the API in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const browser = await ConsoleBrowser.launch();
    try {
      const list = await timeToList(browser, bench);
      console.log(`time to the sites list (${SITES} sites, ${LOADS} new tabs): ${msText(list.console)}   [raw list fetch in the same tab: ${msText(list.raw)}]   goal <= 1000 ms`);
      const latency = await watchLatency(browser, bench);
      console.log(`watch latency, write -> DOM (${WRITES} writes): ${msText(latency.dom)}   [write -> watch event in a plain client: ${msText(latency.raw)}]   goal p99 <= 500 ms`);
    } finally {
      await browser.close();
    }
  });
}

runBenchmark(main);
