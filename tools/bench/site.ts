/**
 * tools/bench/site: apply -> ACTIVE and serving 200, over 10 sites applied one after another on an
 * idle node (the whole system: control plane process, mutual-TLS NATS, the real agent process,
 * nginx, PHP-FPM, MariaDB), beside the floor measured in the same run: the same host steps
 * (SiteHost.provision, which ends when the site answers 200) back to back, without the control
 * plane. A benchmark: it prints numbers and asserts nothing. BENCH_SITES overrides 10.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLogger } from '@pressluft/platform';
import { ControlPlaneProcesses, NodeStack, V1 } from '@pressluft/e2e-harness';
import type { SiteConfig } from '@pressluft/proto';
import { describeShared, Harness, httpGet } from '@pressluft/testing';
import { SiteHost, type StepReporter } from '../../apps/agent/src/host/site-host.js';
import { hostHarness } from '../../apps/agent/test/host-harness.js';
import { runBenchmark } from './bench-plane.js';

const SITES = Number(process.env['BENCH_SITES'] ?? 10);
const quiet: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function manifest(name: string): Record<string, unknown> {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: { name },
    spec: { domains: [`${name}.example.test`], nodeName: 'local', wordpress: { version: '6.1', title: `Bench ${name}`, adminUser: 'admin', adminEmail: 'ops@example.test' }, resources: { cpu: '100%', memory: '512Mi' } },
  };
}

function floorConfig(name: string): SiteConfig {
  return {
    name,
    id: randomBytes(4).toString('hex'),
    environment: 'production',
    domains: [`${name}.example.test`],
    php: { version: '8.2', memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 },
    wordpress: { version: '6.1', title: `Bench ${name}`, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
    resources: { cpuPercent: 100, memoryMib: 512 },
    keepReleases: 5,
  };
}

async function main(): Promise<void> {
  const harness = await Harness.start({ postgres: true, nats: true, mariadb: true, nginx: true, phpFpm: true, redis: true });
  const processes = await ControlPlaneProcesses.build();
  const services = describeShared(harness);
  const stack = await NodeStack.start(processes, services, 'bench');
  // The floor's node settings: those of the host integration specs (the harness's nginx, MariaDB, PHP-FPM; own root and cgroup prefix).
  const floorNode = hostHarness(services, `pressluft-bench-${randomBytes(3).toString('hex')}`);
  const host = new SiteHost(floorNode.settings, createLogger({ name: 'bench-floor', level: 'silent' }));
  const floorSites: SiteConfig[] = [];
  const systemSites: string[] = [];
  try {
    await stack.startAgent('local');
    await stack.waitNodeReady('local', 60_000);

    // The floor: the host steps alone, one site after another.
    const floor: number[] = [];
    for (let i = 0; i < SITES; i++) {
      const config = floorConfig(`floor-${i}`);
      const started = performance.now();
      await host.provision(config, quiet);
      floor.push(performance.now() - started);
      floorSites.push(config);
    }

    // The system: PUT -> the site ACTIVE and its front page 200 through nginx.
    const system: number[] = [];
    for (let i = 0; i < SITES; i++) {
      const name = `bench-${i}`;
      const started = performance.now();
      const put = await stack.call(`${V1}/sites/${name}`, { method: 'PUT', body: manifest(name) });
      if (put.status !== 201) throw new Error(`PUT ${name} answered ${put.status}: ${put.text}`);
      systemSites.push(name);
      for (;;) {
        const site = await stack.site(name);
        if (site?.status.phase === 'FAILED') throw new Error(`${name} FAILED:\n${stack.explain()}`);
        if (site?.status.phase === 'ACTIVE') {
          const page = await httpGet(`http://127.0.0.1:${stack.sitesPort}/`, { host: `${name}.example.test` });
          if (page.status === 200) break;
        }
        if (performance.now() - started > 120_000) throw new Error(`${name} not serving after 120 s:\n${stack.explain()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      system.push(performance.now() - started);
    }

    const f50 = pct(floor, 50);
    const s50 = pct(system, 50);
    console.log(`sites: ${SITES} each, applied one after another on an idle node`);
    console.log(`floor  (SiteHost.provision alone): p50 ${f50.toFixed(0)} ms, p90 ${pct(floor, 90).toFixed(0)} ms, min ${Math.min(...floor).toFixed(0)} ms`);
    console.log(`system (PUT -> ACTIVE and 200):    p50 ${s50.toFixed(0)} ms, p90 ${pct(system, 90).toFixed(0)} ms, min ${Math.min(...system).toFixed(0)} ms`);
    console.log(`ratio system/floor p50: ${(s50 / f50).toFixed(2)} (target <= 2)`);
  } finally {
    for (const name of systemSites) {
      await stack.call(`${V1}/sites/${name}`, { method: 'DELETE' });
      await stack.waitSiteGone(name, 60_000).catch((error: unknown) => console.error(String(error)));
    }
    for (const config of floorSites) await host.remove(config.name, config.id, quiet).catch((error: unknown) => console.error(String(error)));
    await host.stopAll();
    floorNode.cleanup();
    await stack.stop();
    await processes.stop();
    await harness.stop();
  }
}

runBenchmark(main);
