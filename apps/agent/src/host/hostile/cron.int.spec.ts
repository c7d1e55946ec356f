// Hostile tenant vs the node's WP-Cron runs: site A's cron hook tries to leave a process behind and
// then never returns; site B is its neighbour. The agent's CronLoop on the real SiteHost (real
// jail, cgroup, WP-CLI stand-in) with a short timeout.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CronLoop, SerialQueue } from '@pressluft/agent-runtime';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sitePaths } from '../naming.js';
import { SiteHost } from '../site-host.js';
import { processesOf, requireUser } from '../users.js';
import { hostHarness, QUIET } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const A = hostileSite(`cron-a-${suffix}`);
const B = hostileSite(`cron-b-${suffix}`);
const TIMEOUT_MS = 4000;

/** A mu-plugin planting `hook` on every load of WordPress, its handler `body`. */
function cronPlugin(hook: string, body: string): string {
  return `<?php
add_action('${hook}', function () {
${body}
});
if (!wp_next_scheduled('${hook}')) wp_schedule_single_event(time() - 1, '${hook}');
`;
}

describe('hostile tenant vs WP-Cron on the node', () => {
  const harness = hostHarness(services, `pressluft-cron-${suffix}`, { cronTimeoutMs: TIMEOUT_MS });
  const host = new SiteHost(harness.settings, createLogger({ name: 'cron-test', level: 'silent' }));
  const pathsA = sitePaths(harness.settings, A.name, A.id);
  const pathsB = sitePaths(harness.settings, B.name, B.id);
  const started = join(pathsA.tmp, 'hook-started');
  const ranB = join(pathsB.tmp, 'hook-ran');

  beforeAll(async () => {
    await host.provision(A, QUIET);
    await host.provision(B, QUIET);
    const plant = (current: string, source: string) => {
      mkdirSync(join(current, 'wp-content', 'mu-plugins'), { recursive: true });
      writeFileSync(join(current, 'wp-content', 'mu-plugins', 'cron-attack.php'), source);
    };
    // A: every way to leave a process running (refused: the functions are disabled), then never return.
    plant(
      pathsA.current,
      cronPlugin(
        'attack_event',
        `  foreach ([fn () => exec('sleep 300 > /dev/null 2>&1 &'), fn () => proc_open('sleep 300 &', [], $pipes), fn () => pcntl_fork()] as $try) {
    try { @$try(); } catch (\\Throwable $e) {}
  }
  file_put_contents(${JSON.stringify(started)}, 'x');
  while (true) sleep(60);`,
      ),
    );
    plant(pathsB.current, cronPlugin('neighbour_event', `  file_put_contents(${JSON.stringify(ranB)}, (string) time());`));
  }, 180_000);

  afterAll(() => removeSites(host, harness, [A, B]), 120_000);

  it('a hook that never returns is killed at the timeout with all it started, and holds up no other site', async () => {
    const warnings: { site: string; err: string }[] = [];
    const logger = createLogger({ name: 'cron-loop', level: 'silent' });
    logger.warn = ((fields: { site: string; err: string }) => warnings.push(fields));
    const sites = new Map<string, SiteConfig>([
      [A.name, A],
      [B.name, B],
    ]);
    const loop = new CronLoop({ host, sites: () => sites, perSite: new SerialQueue(), logger, setInterval: () => 'manual', clearInterval: () => undefined });
    const begin = Date.now();
    expect(loop.tick()).toEqual([A.name, B.name]);

    // B's run ends while A's hook still hangs.
    await until(() => existsSync(ranB) && existsSync(started), TIMEOUT_MS - 500);
    expect(Date.now() - begin).toBeLessThan(TIMEOUT_MS);
    expect(loop.tick()).not.toContain(A.name); // A's run is still going: never two at once

    await loop.stop();
    const elapsed = Date.now() - begin;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 5000);
    expect(warnings.map((w) => w.site)).toEqual([A.name]);
    expect(warnings[0]?.err).toMatch(new RegExp(`^wp cron event run --due-now was killed after its timeout of ${TIMEOUT_MS} ms`));

    // Nothing of A's runs any more but its PHP-FPM pool.
    const owner = await requireUser(`site_${A.id}`);
    const left = (await processesOf(owner.uid)).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')).filter((cmd) => !cmd.startsWith('php-fpm'));
    expect(left).toEqual([]);
  });
});

/** Polls `condition` every 50 ms for at most `ms`. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
