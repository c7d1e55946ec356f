import type { BackupResult, NodeServiceHealth, SiteConfig, SiteHealth } from '@pressluft/proto';
import { failure } from '../failure.js';
import type { HostBackupRequest, HostCertificateOutcome, HostCertificateRequest, HostRestoreRequest, HostSiteIdentity, ObservedHostSite, ProvisionResult, ReleasesResult, SiteOperations, StepReporter } from '../site-operations.js';

/**
 * How the scripted host answers a host operation: succeed, fail (StepFailed), hang (settles only
 * through settleHung()), or slow (succeeds after SLOW_STEPS steps of `slowStepMs` each, each with
 * a progress event and a log line: what a running command looks like to someone following it).
 */
export type ScriptedBehaviour = 'succeed' | 'fail' | 'hang' | 'slow';

const SLOW_STEPS = ['download', 'unpack', 'configure', 'verify'] as const;

/** The host operations that change a site (what a command asks for). */
export type ScriptedOperation = 'provision' | 'deploy' | 'rollbackTo' | 'rotateDatabasePassword' | 'remove' | 'backup' | 'restore' | 'clone' | 'certify';

export interface ScriptedCall {
  readonly operation: ScriptedOperation;
  readonly site: string;
  readonly id: string;
  /** rollbackTo: the release asked for. */
  readonly release?: string;
  /** backup, restore: the Backup resource and the store's repository. */
  readonly backup?: string;
  readonly repository?: string;
  /** certify: acme, custom or remove. */
  readonly certificate?: string;
}

interface Hung {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A fake at the host boundary for tests of the REAL agent runtime (bus loop, fence store, per-site
 * queue): every operation reports one progress step ('converge', 50), then behaves as told.
 * It keeps no sites: releases are empty, and NodeReports list `observed` only (none by default).
 */
export class ScriptedHost implements SiteOperations {
  behaviour: ScriptedBehaviour = 'succeed';
  /** What fingerprints() answers (every site): the complete set a success leaves; {} when undefined. */
  fingerprintSet: Record<string, string> | undefined;
  /** What observe() answers (the sites in NodeReports). */
  observed: ObservedHostSite[] = [];
  readonly calls: ScriptedCall[] = [];
  /** The pause before each step of a 'slow' operation. */
  slowStepMs = 700;
  private readonly hung = new Set<Hung>();

  async provision(site: SiteConfig, report: StepReporter): Promise<ProvisionResult> {
    await this.act({ operation: 'provision', site: site.name, id: site.id }, report);
    return { url: `http://${site.domains[0] ?? ''}/`, currentRelease: '' };
  }

  async deploy(site: SiteConfig, report: StepReporter): Promise<ReleasesResult> {
    await this.act({ operation: 'deploy', site: site.name, id: site.id }, report);
    return { currentRelease: '', releases: [] };
  }

  async rollbackTo(name: string, id: string, release: string | undefined, report: StepReporter): Promise<ReleasesResult> {
    await this.act({ operation: 'rollbackTo', site: name, id, ...(release !== undefined ? { release } : {}) }, report);
    return { currentRelease: release ?? '', releases: [] };
  }

  async rotateDatabasePassword(name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }> {
    await this.act({ operation: 'rotateDatabasePassword', site: name, id }, report);
    return { rotatedAt: new Date().toISOString() };
  }

  async remove(name: string, id: string, report: StepReporter): Promise<void> {
    await this.act({ operation: 'remove', site: name, id }, report);
  }

  /** Answers with made-up snapshot ids (hex of the call count) and sizes. */
  async backup(request: HostBackupRequest, report: StepReporter): Promise<BackupResult> {
    await this.act({ operation: 'backup', site: request.name, id: request.id, backup: request.backup, repository: request.store.repository }, report);
    const n = this.calls.length.toString(16).padStart(8, '0');
    return { snapshots: { database: `d${n}`.slice(0, 8), files: `f${n}`.slice(0, 8), manifest: `e${n}`.slice(0, 8) }, snapshotTime: new Date().toISOString(), bytesAdded: 1024, bytesTotal: 4096, files: 3, seconds: 0.1, wordpressVersion: '6.4.2', release: '', gitCommit: '' };
  }

  async restore(request: HostRestoreRequest, report: StepReporter): Promise<ReleasesResult> {
    await this.act({ operation: 'restore', site: request.site.name, id: request.site.id, backup: request.backup, repository: request.store.repository }, report);
    return { currentRelease: '', releases: [] };
  }

  async clone(request: HostRestoreRequest, report: StepReporter): Promise<ProvisionResult & ReleasesResult> {
    await this.act({ operation: 'clone', site: request.site.name, id: request.site.id, backup: request.backup, repository: request.store.repository }, report);
    return { url: `http://${request.site.domains[0] ?? ''}/`, currentRelease: '', releases: [] };
  }

  /** What identity() answers (every site). */
  identitySet: HostSiteIdentity = { currentCommit: '', deployPublicKey: '' };

  identity(): Promise<HostSiteIdentity> {
    return Promise.resolve(this.identitySet);
  }

  /** Answers with a made-up certificate for the site's domains, valid 90 days from now (none after removal). */
  async certify(request: HostCertificateRequest, report: StepReporter): Promise<HostCertificateOutcome> {
    await this.act({ operation: 'certify', site: request.site.name, id: request.site.id, certificate: request.source }, report);
    if (request.source === 'remove') return { certificate: undefined };
    const now = Date.now();
    const n = this.calls.length.toString(16).padStart(2, '0');
    return {
      certificate: {
        source: request.source,
        domains: [...request.site.domains],
        issuer: 'CN=Scripted CA',
        serialNumber: n,
        fingerprintSha256: n.repeat(32).slice(0, 64),
        notBefore: new Date(now).toISOString(),
        notAfter: new Date(now + 90 * 86_400_000).toISOString(),
        ocspStapling: false,
      },
    };
  }

  /** The sites purgePageCache() was called for, in order. */
  readonly purged: string[] = [];

  purgePageCache(name: string): Promise<void> {
    this.purged.push(name);
    return Promise.resolve();
  }

  releases(): Promise<{ current: string | undefined; releases: string[] }> {
    return Promise.resolve({ current: undefined, releases: [] });
  }

  fingerprints(): Promise<Record<string, string>> {
    return Promise.resolve({ ...(this.fingerprintSet ?? {}) });
  }

  observe(): Promise<readonly ObservedHostSite[]> {
    return Promise.resolve(this.observed);
  }

  /** The sites supervise() was called for, in order. */
  readonly supervised: string[] = [];

  /** Keeps nothing running: there are no processes (the calls are recorded). */
  supervise(site: SiteConfig): Promise<boolean> {
    this.supervised.push(site.name);
    return Promise.resolve(false);
  }

  /** The sites runCron() was called for, in order. */
  readonly cronRuns: string[] = [];
  /** How a site's cron run ends (succeeds at once by default). */
  cron: (site: string) => Promise<void> = () => Promise.resolve();

  runCron(site: SiteConfig): Promise<void> {
    this.cronRuns.push(site.name);
    return this.cron(site.name);
  }

  superviseNode(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** What health() answers: the given sites as `siteHealth` says (SERVING by default), and `services`. */
  siteHealth: (name: string) => Omit<SiteHealth, 'name'> = () => ({ state: 'SERVING', reason: '', message: 'GET / answered 200', httpStatus: 200, probeSeconds: 0.01, processUp: true, restarts: 0, crashLooping: false, lastExit: '' });
  services: NodeServiceHealth[] = [];

  health(sites: readonly SiteConfig[]): Promise<{ sites: SiteHealth[]; services: NodeServiceHealth[] }> {
    return Promise.resolve({ sites: sites.map((site) => ({ name: site.name, ...this.siteHealth(site.name) })), services: [...this.services] });
  }

  /** Operations hanging right now. */
  get hanging(): number {
    return this.hung.size;
  }

  /**
   * Lets every hanging operation end (a failure by default), so the agent's per-site queue moves
   * on and Agent.stop() can return: call it before stopping the agent.
   */
  settleHung(outcome: 'succeed' | 'fail' = 'fail'): void {
    for (const call of this.hung) {
      if (outcome === 'succeed') call.resolve();
      else call.reject(failure('StepFailed', 'the scripted host was stopped while the operation hung'));
    }
    this.hung.clear();
  }

  private async act(call: ScriptedCall, report: StepReporter): Promise<void> {
    this.calls.push(call);
    const behaviour = this.behaviour;
    await report.progress('converge', 50);
    if (behaviour === 'fail') throw failure('StepFailed', 'the scripted host was told to fail');
    if (behaviour === 'hang') await new Promise<void>((resolve, reject) => this.hung.add({ resolve, reject }));
    if (behaviour === 'slow') {
      for (const [i, step] of SLOW_STEPS.entries()) {
        await new Promise((resolve) => setTimeout(resolve, this.slowStepMs));
        await report.progress(step, 50 + Math.round((50 * (i + 1)) / (SLOW_STEPS.length + 1)));
        await report.log(`${call.operation} ${call.site}: ${step} done (${i + 1}/${SLOW_STEPS.length})`);
      }
    }
  }
}
