import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { writeKubeconfig } from '@pressluft/e2e-harness';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { compactChangeLog } from '../engine/pruning.repository.js';

/**
 * Real Kubernetes clients, unchanged, against a real control plane over verified TLS:
 * the official JavaScript client and the kubectl binary, both configured by a kubeconfig.
 */

const KUBECTL = '/usr/bin/kubectl';
const KUBECTL_MISSING = `kubectl not found at ${KUBECTL} (install kubectl >= 1.27)`;
const API_VERSION = 'pressluft.io/v1';
const SITES_PATH = '/apis/pressluft.io/v1/sites';
const TIMEOUT_MS = 30_000;
const exampleYaml = readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8');

interface SiteSpec {
  domains: string[];
  wordpress: { version?: string; title?: string; adminUser?: string; adminEmail?: string; colour?: string };
  [field: string]: unknown;
}

interface Site extends k8s.KubernetesObject {
  spec: SiteSpec;
  status?: { phase?: string; [field: string]: unknown };
}

/** examples/site.yaml under another name and domain. */
function siteManifest(name: string): Site {
  const base = parseYaml(exampleYaml) as Site;
  return { ...base, metadata: { ...base.metadata, name }, spec: { ...base.spec, domains: [`${name}.example.test`] } };
}

/** What KubernetesObjectApi needs to find one Site: apiVersion, kind and name. */
function siteRef(name: string): { apiVersion: string; kind: string; metadata: { name: string } } {
  return { apiVersion: API_VERSION, kind: 'Site', metadata: { name } };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('real Kubernetes clients against the control plane', () => {
  let fx: ControlPlaneFixture;
  let dir: string;
  let kubeconfigPath: string;

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ https: true });
    const https = fx.plane.https;
    if (!https) throw new Error('the fixture started no HTTPS listener');
    dir = mkdtempSync(join(tmpdir(), 'pressluft-kube-clients-'));
    kubeconfigPath = writeKubeconfig(dir, { server: https.url, caCert: https.caCert, token: fx.adminToken });
  });

  afterAll(async () => {
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Compacts the change log as the leader's pruning does, everything superseded up to now. */
  const compact = () => compactChangeLog(fx.plane.app.get(DataSource).manager, new Date(Date.now() + 60_000), 100_000);

  describe('@kubernetes/client-node', () => {
    const NAME = 'client-node';
    let objects: k8s.KubernetesObjectApi;
    let watchAbort: AbortController | undefined;
    const events: Array<{ type: string; object: Site }> = [];
    let watchEnded: { err: unknown } | undefined;
    let createdUid: string | undefined;

    beforeAll(async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      expect(kc.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
      objects = kc.makeApiClient(k8s.KubernetesObjectApi);
      // Started before the object exists, so it sees the whole life of the site.
      watchAbort = await new k8s.Watch(kc).watch(
        SITES_PATH,
        { fieldSelector: `metadata.name=${NAME}` },
        (type, object: Site) => events.push({ type, object }),
        (err) => {
          watchEnded = { err };
        },
      );
    });

    afterAll(() => {
      watchAbort?.abort();
    });

    it('creates a Site from examples/site.yaml, reads it back and lists it', async () => {
      const created = await objects.create(siteManifest(NAME));
      expect(created).toMatchObject({ apiVersion: API_VERSION, kind: 'Site' });
      expect(created.metadata).toMatchObject({ name: NAME, generation: 1, labels: { team: 'web' } });
      expect(created.metadata?.uid).toEqual(expect.any(String));
      expect(created.spec.wordpress.title).toBe('Shop');
      expect(created.spec.domains).toEqual([`${NAME}.example.test`]);
      expect(created.status?.phase).toBe('PENDING');
      createdUid = created.metadata?.uid;

      const read = await objects.read<Site>(siteRef(NAME));
      expect(read.metadata?.uid).toBe(createdUid);
      expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
      expect(read.spec.wordpress).toEqual({ version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' });

      const list = await objects.list<Site>(API_VERSION, 'Site');
      expect(list.kind).toBe('SiteList');
      expect(list.items.find((i) => i.metadata?.name === NAME)?.metadata?.uid).toBe(createdUid);

      const selected = await objects.list<Site>(API_VERSION, 'Site', undefined, undefined, undefined, undefined, `metadata.name=${NAME}`);
      expect(selected.items.map((i) => i.metadata?.name)).toEqual([NAME]);
    });

    it('merge-patches spec.wordpress.title, keeping the other fields and bumping metadata.generation to 2', async () => {
      const patch = { ...siteRef(NAME), spec: { wordpress: { title: 'Client Node' } } } as Site;
      const patched = await objects.patch<Site>(patch, undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
      expect(patched.metadata).toMatchObject({ name: NAME, uid: createdUid, generation: 2 });
      expect(patched.spec.wordpress).toEqual({ version: '6.1', title: 'Client Node', adminUser: 'admin', adminEmail: 'ops@example.test' });
      expect(patched.spec.domains).toEqual([`${NAME}.example.test`]);

      const read = await objects.read<Site>(siteRef(NAME));
      expect(read.metadata?.generation).toBe(2);
      expect(read.spec.wordpress.title).toBe('Client Node');
    });

    it('deletes the Site; reading it afterwards fails with a 404 NotFound', async () => {
      await objects.delete(siteRef(NAME));
      const error = await objects.read<Site>(siteRef(NAME)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(k8s.ApiException);
      const apiError = error as k8s.ApiException<unknown>;
      expect(apiError.code).toBe(404);
      const body: unknown = typeof apiError.body === 'string' ? JSON.parse(apiError.body) : apiError.body;
      expect(body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
      const list = await objects.list<Site>(API_VERSION, 'Site');
      expect(list.items.map((i) => i.metadata?.name)).not.toContain(NAME);
    });

    it('watches the Site through its life: ADDED, MODIFIED with the new title, DELETED', async () => {
      await waitFor('a DELETED watch event', () => events.some((e) => e.type === 'DELETED') || watchEnded !== undefined);
      expect(watchEnded, `the watch ended early: ${String(watchEnded?.err)}`).toBeUndefined();
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('ADDED');
      expect(types[types.length - 1]).toBe('DELETED');
      expect(types.slice(1, -1).every((t) => t === 'MODIFIED')).toBe(true);
      expect(events.every((e) => e.object.metadata?.name === NAME && e.object.metadata.uid === createdUid)).toBe(true);
      expect(events[0]?.object.spec.wordpress.title).toBe('Shop');
      expect(events.find((e) => e.type === 'MODIFIED' && e.object.spec.wordpress.title === 'Client Node')?.object.metadata?.generation).toBe(2);
      const versions = events.map((e) => Number(e.object.metadata?.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    });
  });

  describe('@kubernetes/client-node after the change log was compacted', () => {
    const NAME = 'informer-shop';

    it('an informer resuming from a compacted resourceVersion gets 410 Expired, relists and follows on', async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      const objects = kc.makeApiClient(k8s.KubernetesObjectApi);
      const labelled = (step: string) =>
        objects.patch({ ...siteRef(NAME), metadata: { name: NAME, labels: { step } } }, undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
      const created = await objects.create(siteManifest(NAME));
      const stale = created.metadata?.resourceVersion ?? '';
      // Resuming from the creation needs the first label's change, which the compaction removes (the second supersedes it).
      await labelled('1');
      await labelled('2');
      expect(await compact()).toBeGreaterThan(0);

      let lists = 0;
      // The first list hands out the stale version, as an informer whose watch broke long ago resumes from it.
      const informer = k8s.makeInformer<Site>(kc, SITES_PATH, async () => {
        const list = await objects.list<Site>(API_VERSION, 'Site');
        lists++;
        return lists === 1 ? { ...list, metadata: { ...list.metadata, resourceVersion: stale } } : list;
      });
      const errors: unknown[] = [];
      informer.on('error', (error) => errors.push(error));
      await informer.start();
      try {
        await waitFor('a relist after 410 Expired', () => lists >= 2);
        await labelled('3');
        await waitFor('the informer sees the label', () => informer.get(NAME)?.metadata?.labels?.['step'] === '3');
        expect(errors).toEqual([]);
      } finally {
        await informer.stop();
        await objects.delete(siteRef(NAME));
      }
    });
  });

  describe('kubectl', () => {
    const NAME = 'kubectl-shop';
    let home: string;
    let env: NodeJS.ProcessEnv;
    let manifestPath: string;
    let watcher: ChildProcess | undefined;

    interface Run {
      readonly code: number | string;
      readonly stdout: string;
      readonly stderr: string;
    }

    /** Every kubectl test fails (never skips) with this when the binary is missing. */
    const requireKubectl = (): void => {
      if (!existsSync(KUBECTL)) throw new Error(KUBECTL_MISSING);
    };

    /** kubectl with an argv array (no shell), our kubeconfig, its cache in a temp HOME, and a timeout. */
    const kubectl = (...args: string[]): Promise<Run> =>
      new Promise((done) => {
        requireKubectl();
        execFile(KUBECTL, args, { env, timeout: TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error ? (error.code ?? error.signal ?? 'error') : 0;
          done({ code, stdout, stderr });
        });
      });

    /** Runs kubectl and expects success, showing its output when it fails. */
    const kubectlOk = async (...args: string[]): Promise<Run> => {
      const run = await kubectl(...args);
      expect(run.code, `kubectl ${args.join(' ')}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(0);
      return run;
    };

    const writeManifest = (name: string, edit: (site: Site) => void = () => undefined): string => {
      const site = siteManifest(name);
      edit(site);
      const path = join(home, `${name}.yaml`);
      writeFileSync(path, stringifyYaml(site));
      return path;
    };

    const rowsFor = (output: string, name: string): string[][] =>
      output
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((cells) => cells[0] === name);

    beforeAll(() => {
      home = mkdtempSync(join(dir, 'home-'));
      env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfigPath };
      manifestPath = writeManifest(NAME);
    });

    afterAll(async () => {
      await stopWatcher();
    });

    async function stopWatcher(): Promise<void> {
      const child = watcher;
      watcher = undefined;
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(child.pid, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!stopped && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    }

    it('creates a Site with kubectl apply', async () => {
      const run = await kubectlOk('apply', '-f', manifestPath);
      expect(run.stdout.trim()).toBe(`site.pressluft.io/${NAME} created`);
    });

    it('reports an unchanged re-apply, and "configured" after the manifest changed', async () => {
      const same = await kubectlOk('apply', '-f', manifestPath);
      expect(same.stdout.trim()).toBe(`site.pressluft.io/${NAME} unchanged`);

      writeManifest(NAME, (site) => {
        site.spec.wordpress.title = 'Kubectl Shop';
      });
      const changed = await kubectlOk('apply', '-f', manifestPath);
      expect(changed.stdout.trim()).toBe(`site.pressluft.io/${NAME} configured`);
    });

    it('lists sites as a server-side table with NAME PHASE NODE DOMAINS READY AGE', async () => {
      const run = await kubectlOk('get', 'sites');
      const [header = '', ...rows] = run.stdout.trimEnd().split('\n');
      expect(header.trim().split(/\s+/)).toEqual(['NAME', 'PHASE', 'NODE', 'DOMAINS', 'READY', 'AGE']);
      expect(rows.length).toBeGreaterThanOrEqual(1);
      const row = rowsFor(run.stdout, NAME)[0];
      expect(row?.slice(0, 4)).toEqual([NAME, 'PENDING', 'local', `${NAME}.example.test`]);
    });

    it('shows the applied Site as YAML with generation 2, the new title and the last-applied annotation', async () => {
      const run = await kubectlOk('get', 'site', NAME, '-o', 'yaml');
      const site = parseYaml(run.stdout) as Site;
      expect(site).toMatchObject({ apiVersion: API_VERSION, kind: 'Site', metadata: { name: NAME, generation: 2, labels: { team: 'web' } } });
      expect(site.spec.wordpress.title).toBe('Kubectl Shop');
      const lastApplied = site.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
      expect(lastApplied).toEqual(expect.any(String));
      expect((JSON.parse(lastApplied ?? '{}') as Site).spec.wordpress.title).toBe('Kubectl Shop');
      expect(site.status?.phase).toBe('PENDING');
    });

    it('streams a new row to "kubectl get sites --watch" when the Site is labelled', async () => {
      let stdout = '';
      let stderr = '';
      requireKubectl();
      const child = spawn(KUBECTL, ['get', 'sites', '--watch'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      watcher = child;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = () => child.exitCode !== null || child.signalCode !== null;

      await waitFor('the initial row of the watch', () => rowsFor(stdout, NAME).length >= 1 || exited());
      expect(exited(), `kubectl get --watch exited: ${stderr}`).toBe(false);
      expect(stdout.split('\n')[0]?.trim().split(/\s+/)).toEqual(['NAME', 'PHASE', 'NODE', 'DOMAINS', 'READY', 'AGE']);

      const labelled = await kubectlOk('label', 'site', NAME, 'tier=gold');
      expect(labelled.stdout.trim()).toBe(`site.pressluft.io/${NAME} labeled`);

      await waitFor('a second row after the label', () => rowsFor(stdout, NAME).length >= 2 || exited());
      expect(exited(), `kubectl get --watch exited: ${stderr}`).toBe(false);
      expect(rowsFor(stdout, NAME)[1]?.slice(0, 2)).toEqual([NAME, 'PENDING']);

      await stopWatcher();
      expect(exited()).toBe(true);

      const site = parseYaml((await kubectlOk('get', 'site', NAME, '-o', 'yaml')).stdout) as Site;
      expect(site.metadata?.labels).toEqual({ team: 'web', tier: 'gold' });
      expect(site.metadata?.generation).toBe(2);
    });

    it('describes a Site with its Events, looked up where kubectl looks (core/v1 events by involvedObject)', async () => {
      const run = await kubectlOk('describe', 'site', NAME);
      const events = run.stdout.slice(run.stdout.indexOf('\nEvents:'));
      expect(events, run.stdout).toMatch(/^\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
      expect(events).toMatch(new RegExp(`Normal\\s+Created\\s+\\S+\\s+pressluft-control-plane\\s+Site ${NAME} created \\(generation 1\\)`));
      // Another site's events are not this one's.
      expect(events).not.toContain('client-node');
    });

    it('lists events.pressluft.io newest last, as kubectl lists events', async () => {
      // Named to sort first: only time puts its event last.
      const late = writeManifest('aaa-late');
      await kubectlOk('apply', '-f', late);
      const run = await kubectlOk('get', 'events.pressluft.io');
      const rows = run.stdout.trimEnd().split('\n').slice(1);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows[rows.length - 1]).toMatch(/Normal\s+Created\s+site\/aaa-late\s/);
      const times = (await kubectlOk('get', 'events.pressluft.io', '-o', 'jsonpath={range .items[*]}{.lastTimestamp}{"\\n"}{end}')).stdout.trim().split('\n');
      expect(times).toEqual([...times].sort((a, b) => Date.parse(a) - Date.parse(b)));
      await kubectlOk('delete', 'site', 'aaa-late');
    });

    it('"kubectl get sites --watch" keeps streaming while the change log is compacted under it', async () => {
      let stdout = '';
      requireKubectl();
      const child = spawn(KUBECTL, ['get', 'sites', '--watch'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      watcher = child;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      await waitFor('the initial row of the watch', () => rowsFor(stdout, NAME).length >= 1 || exited());

      // Changes of another kind only (the watch of sites stays quiet), then a compaction past the version it started from.
      const node = join(home, 'churn-node.yaml');
      writeFileSync(node, stringifyYaml({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'kubectl-churn' }, spec: { provider: 'static' } }));
      await kubectlOk('apply', '-f', node);
      for (const step of ['1', '2', '3']) await kubectlOk('label', '--overwrite', 'nodes.pressluft.io', 'kubectl-churn', `step=${step}`);
      expect(await compact()).toBeGreaterThan(0);
      const rows = rowsFor(stdout, NAME).length;
      await kubectlOk('label', '--overwrite', 'site', NAME, 'tier=platinum');
      await waitFor('a row after the compaction', () => rowsFor(stdout, NAME).length > rows || exited());
      expect(exited()).toBe(false);
      await stopWatcher();
      await kubectlOk('delete', '-f', node);
    });

    it('rejects a manifest with an unknown field (server-side strict validation) and creates nothing', async () => {
      const bad = writeManifest('kubectl-bad', (site) => {
        site.spec.wordpress.colour = 'blue';
      });
      const run = await kubectl('apply', '-f', bad);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('unknown field "spec.wordpress.colour"');

      const missing = await kubectl('get', 'site', 'kubectl-bad');
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('NotFound');
    });

    it('deletes the Site with kubectl delete; a following get fails with NotFound', async () => {
      const run = await kubectlOk('delete', 'site', NAME);
      expect(run.stdout.trim()).toBe(`site.pressluft.io "${NAME}" deleted`);

      const missing = await kubectl('get', 'site', NAME);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('NotFound');
      expect(missing.stderr).toContain(`"${NAME}" not found`);
    });
  });
});
