import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import {
  applyCommandEvent,
  appliedFingerprints,
  commandEventFromOwner,
  driftFindings,
  findCondition,
  FINGERPRINTS_MEANING,
  RELEASE_ID_PATTERN,
  setCondition,
  wellFormedFingerprints,
  type AgentCommandEvent,
  type Condition,
  type CommandSpec,
  type CommandStatus,
  type NodeStatus,
  type Resource,
  type SiteStatus,
} from '@pressluft/domain';
import { BackgroundLoop, EVENT_STREAM, INGEST_CONSUMER, type Logger } from '@pressluft/platform';
import { CommandEvent, Heartbeat, NodeHealth, NodeReport, type BackupResult, type SiteState } from '@pressluft/proto';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { recordEvent } from '../events/event.recorder.js';
import { NatsClient } from '../infra/nats.client.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { BusStreams } from './bus-streams.js';
import { commandName, type Site } from './command.issuer.js';
import type { Runnable } from './controller-registry.js';
import { faultPoint } from './faults.js';
import { HealthIngest } from './health.ingest.js';
import { LeaderElection } from './leader-election.js';
import { recordReceipt } from './receipt.repository.js';
import { expectedFingerprints, forgetExpectedFingerprints, saveExpectedFingerprints } from './fingerprint.repository.js';

/**
 * Events a replica fetched but never acknowledged (it died, froze or lost the lease) go to the
 * next leader after this long. Short, because applying an event takes milliseconds and a
 * redelivery is harmless (receipts make ingest idempotent).
 */
const ACK_WAIT_NANOS = 5_000_000_000;
/** Events fetched ahead and applied in one transaction, at most. */
const MAX_BATCH = 64;

/**
 * Agent events from pressluft.evt.<node>.<kind> (a durable pull consumer, explicit acks):
 * command progress and results update the Command, heartbeats update the Node, health snapshots
 * go to HealthIngest (site and node service conditions). Idempotent on
 * (command, sequence): a receipt row is written in the same transaction, so a redelivery after
 * a crash changes nothing. A node may only speak about its own commands (the subject names it),
 * checked before the receipt is written.
 */
@Injectable()
export class EventIngest implements Runnable {
  private messages: ConsumerMessages | undefined;
  private readonly loop = new BackgroundLoop(
    () => this.run(),
    () => this.messages?.close(),
  );

  constructor(
    private readonly store: ResourceStore,
    private readonly nats: NatsClient,
    private readonly leader: LeaderElection,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly streams: BusStreams,
    private readonly health: HealthIngest,
  ) {}

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.health.forget();
  }

  private async run(): Promise<void> {
    if (!(await this.streams.ready(this.loop))) return;
    while (this.loop.running) {
      const connection = this.nats.connection();
      if (!connection || connection.isClosed()) {
        await this.loop.pause(250);
        continue;
      }
      try {
        const jsm = await jetstreamManager(connection);
        const settings = { ack_wait: ACK_WAIT_NANOS, max_deliver: -1 };
        // An existing consumer from an older version is brought to the current settings.
        await jsm.consumers
          .add(EVENT_STREAM, { durable_name: INGEST_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...settings })
          .catch(() => jsm.consumers.update(EVENT_STREAM, INGEST_CONSUMER, settings));
        const consumer = await jetstream(connection).consumers.get(EVENT_STREAM, INGEST_CONSUMER);
        // Short-lived pull requests: a frozen or dead replica's open request stops receiving
        // events after `expires`, so they go to the live leader instead of waiting out the ack wait.
        this.messages = await consumer.consume({ max_messages: MAX_BATCH, expires: 2000 });
        // Events that arrive while a batch is being applied wait and go together in the next one:
        // alone an event is applied at once, under load many share one transaction.
        const waiting: JsMsg[] = [];
        let draining: Promise<void> | undefined;
        const drain = async (): Promise<void> => {
          while (waiting.length > 0) await this.handleBatch(waiting.splice(0, MAX_BATCH));
          draining = undefined;
        };
        for await (const message of this.messages) {
          if (!this.loop.running) break;
          waiting.push(message);
          draining ??= drain();
          if (waiting.length >= MAX_BATCH) await draining;
        }
        await draining;
      } catch (error) {
        if (this.loop.running) {
          this.logger.warn({ err: error }, 'event ingest: consumer failed; restarting');
          await this.loop.pause(500);
        }
      }
    }
  }

  /**
   * Command events of a batch are applied in one transaction (one lease check, one commit); if
   * that fails, each is tried on its own, so one bad event cannot hold the others back.
   * Heartbeats, reports and health snapshots are applied one by one.
   */
  private async handleBatch(messages: readonly JsMsg[]): Promise<void> {
    const commandEvents: Array<{ message: JsMsg; node: string; event: CommandEvent }> = [];
    for (const message of messages) {
      const [, , node, kind] = message.subject.split('.');
      if (node && kind === 'command' && messages.length > 1) {
        try {
          commandEvents.push({ message, node, event: CommandEvent.decode(message.data) });
          continue;
        } catch {
          // undecodable: handled (and logged) on its own below
        }
      }
      await this.handle(message);
    }
    if (commandEvents.length === 0) return;
    try {
      await this.ingestCommandEvents(commandEvents);
      for (const { message } of commandEvents) message.ack();
    } catch (error) {
      this.logger.warn({ err: error, events: commandEvents.length }, 'event ingest: a batch was not applied; applying its events one by one');
      for (const { message } of commandEvents) await this.handle(message);
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const [, , node, kind] = message.subject.split('.');
    try {
      if (!node) throw new Error(`unexpected subject ${message.subject}`);
      if (kind === 'command') await this.ingestCommandEvent(node, CommandEvent.decode(message.data));
      else if (kind === 'heartbeat') await this.ingestHeartbeat(node, Heartbeat.decode(message.data));
      else if (kind === 'report') await this.ingestReport(node, NodeReport.decode(message.data));
      else if (kind === 'health') await this.health.ingest(node, NodeHealth.decode(message.data));
      message.ack();
    } catch (error) {
      this.logger.warn({ err: error, subject: message.subject }, 'event ingest: event not applied; redelivering');
      message.nak(1000);
    }
  }

  /** Applies one command event; returns false when it was a duplicate or not acceptable. */
  async ingestCommandEvent(node: string, event: CommandEvent): Promise<boolean> {
    if (!this.wellFormed(node, event)) return false;
    const now = this.clock.now();
    return this.leader.transaction((tx) => this.applyInTransaction(tx, node, event, now));
  }

  /** Applies command events in order, all in one transaction (all or nothing). */
  private async ingestCommandEvents(events: ReadonlyArray<{ node: string; event: CommandEvent }>): Promise<void> {
    const now = this.clock.now();
    await this.leader.transaction(async (tx) => {
      for (const { node, event } of events) {
        if (this.wellFormed(node, event)) await this.applyInTransaction(tx, node, event, now);
      }
    });
  }

  private wellFormed(node: string, event: CommandEvent): boolean {
    const commandName = event.ref?.id ?? '';
    if (/^[a-z0-9-]{1,80}$/.test(commandName) && event.sequence >= 1) return true;
    this.logger.warn({ node, command: commandName.slice(0, 80) }, 'event ingest: malformed command event dropped');
    return false;
  }

  /** One command event inside the caller's transaction (the lease is checked); false: a duplicate or not acceptable. */
  private async applyInTransaction(tx: ResourceTransaction, node: string, event: CommandEvent, now: Date): Promise<boolean> {
    const commandName = event.ref?.id ?? '';
    // Ownership first: a foreign node's event leaves no receipt behind (it cannot take the
    // owner's sequence numbers), and the lock holds the command until the transaction ends.
    const command = await tx.get('Command', commandName, { lock: true });
    if (!command || !commandEventFromOwner(command.spec.node, node, event.ref?.node)) {
      this.logger.warn({ node, command: commandName }, 'event ingest: event about a command this node does not own; dropped without a receipt');
      return false;
    }
    if (!(await recordReceipt(tx.manager, commandName, event.sequence, now))) return false;
    faultPoint('during-ingest');
    let status = applyCommandEvent(command.status, agentCommandEvent(event), now.toISOString());
    if (status === command.status) return true;
    let site: Site | undefined = await tx.get('Site', command.spec.site, { lock: true });
    const releases = event.kind?.$case === 'succeeded' ? releasesOf(event.kind.value.site) : undefined;
    if (site && releases) {
      const current = site.status;
      if (current.currentRelease !== releases.currentRelease || current.releases.join() !== releases.releases.join()) {
        site = await tx.update(site, { ...writeOf(site), status: { ...current, ...releases } }, now);
      }
    }
    const identity = event.kind?.$case === 'succeeded' && event.kind.value.site ? siteIdentityOf(event.kind.value.site) : undefined;
    if (site && identity && !isDeepStrictEqual(identity, { currentCommit: site.status.currentCommit, deployKey: site.status.deployKey })) {
      const { currentCommit: _commit, deployKey: _key, ...rest } = site.status;
      site = await tx.update(site, { ...writeOf(site), status: { ...rest, ...definedOnly(identity) } }, now);
    }
    if (site && status.state === 'SUCCEEDED' && command.spec.operation === 'RotateCredentials') {
      site = await tx.update(site, { ...writeOf(site), status: { ...site.status, credentialsRotatedAt: now.toISOString() } }, now);
    }
    if (site && status.state === 'SUCCEEDED' && event.kind?.$case === 'succeeded') {
      const outcome = await this.fingerprintsOfCommand(tx, site, command, event.kind.value.site, node, now);
      site = outcome.site;
      // A CheckDrift answers with the control plane's verdict, not the node's word.
      if (outcome.verdict) status = { ...status, message: outcome.verdict };
    }
    await tx.update(command, { ...writeOf(command), status }, now);
    if (site && status.state !== command.status.state) {
      if (status.state === 'FAILED' || status.state === 'REJECTED') {
        await recordEvent(tx, site, 'Warning', `Command${status.state === 'FAILED' ? 'Failed' : 'Rejected'}`, `${command.spec.operation} (fence ${command.spec.fence}) ${status.state.toLowerCase()} on ${node}: ${status.reason ?? ''} ${status.message ?? ''}`.trim(), now);
      } else if (status.state === 'SUCCEEDED') {
        await recordEvent(tx, site, 'Normal', 'CommandSucceeded', `${command.spec.operation} (fence ${command.spec.fence}) succeeded on ${node}`, now);
      }
    }
    return true;
  }

  /**
   * The fingerprints in a successful command's result. After a converge (provision, deploy,
   * rollback, rotation, remediation) they are what to expect from now on; a complete converge
   * also ends any drift (it put everything back). After CheckDrift they are an observation,
   * compared like a report's, and the verdict is the command's message. A deleted site expects
   * nothing any more.
   */
  private async fingerprintsOfCommand(
    tx: ResourceTransaction,
    site: Site,
    command: Resource<CommandSpec, CommandStatus>,
    state: SiteState | undefined,
    node: string,
    now: Date,
  ): Promise<{ site: Site; verdict?: string }> {
    const { operation, fence } = command.spec;
    const { name, uid } = site.metadata;
    if (operation === 'DeleteSite') {
      await forgetExpectedFingerprints(tx, name);
      return { site };
    }
    if (!state) return { site };
    const sent = wellFormedFingerprints(state.fingerprints);
    const expected = await expectedFingerprints(tx, name, uid);
    switch (FINGERPRINTS_MEANING[operation]) {
      case 'applied':
        await saveExpectedFingerprints(tx, name, uid, fence, appliedFingerprints(expected, sent, state.fingerprintsComplete), now);
        return { site: state.fingerprintsComplete ? await this.setDrifted(tx, site, [], `${operation} (fence ${fence}) converged the site on ${node}`, now) : site };
      case 'observed': {
        const findings = driftFindings({ phase: site.status.phase, fence: site.status.fence, latestCommandState: 'SUCCEEDED', nodeFence: fence, expected, observed: sent });
        if (!findings) return { site, verdict: expected ? 'no verdict: the site is not ACTIVE or not on this fence' : 'no verdict: no converge has reported what to expect yet' };
        const verdict = findings.length > 0 ? `drift: ${findings.join('; ')}`.slice(0, 4096) : 'no drift';
        return { site: await this.setDrifted(tx, site, findings, `the site on ${node} matches what was applied again`, now), verdict };
      }
      case 'none':
        return { site };
    }
  }

  /** Writes the Drifted condition `findings` ask for (if it changes) with its event. */
  private async setDrifted(tx: ResourceTransaction, site: Site, findings: readonly string[], cleared: string, now: Date): Promise<Site> {
    const change = driftCondition(site.status.conditions, findings);
    if (!change) return site;
    const updated = await tx.update(site, { ...writeOf(site), status: { ...site.status, conditions: setCondition(site.status.conditions, change, now) } }, now);
    if (change.status === 'True') await recordEvent(tx, updated, 'Warning', 'DriftDetected', change.message, now);
    else await recordEvent(tx, updated, 'Normal', 'DriftCleared', cleared, now);
    return updated;
  }

  /**
   * A NodeReport: the node's capacity and public addresses, and each of its sites' fingerprints compared with what
   * the control plane expects (libs/domain driftFindings: only for ACTIVE sites without a command
   * in flight, once the node holds the site's newest fence and a converge reported what to
   * expect). Drifted=True with a short summary and a Warning event; False again with a Normal
   * event when it cleared. Written only when something changed.
   */
  private async ingestReport(node: string, report: NodeReport): Promise<void> {
    if (report.node !== node) return;
    const capacity = capacityOf(report);
    const addresses = addressesOf(report);
    const now = this.clock.now();
    await this.leader.transaction(async (tx) => {
      const current = await tx.get('Node', node, { lock: true });
      if (!current) return;
      const { addresses: _reported, ...rest } = current.status;
      const status = { ...rest, ...(capacity ? { capacity } : {}), ...(addresses.length > 0 ? { addresses } : {}) };
      if (isDeepStrictEqual(status, current.status)) return;
      await tx.update(current, { ...writeOf(current), status }, now);
    });
    for (const observed of report.sites) {
      if (!observed.fingerprinted) continue;
      await this.leader.transaction(async (tx) => {
        const site = await tx.get('Site', observed.name, { lock: true });
        if (!site || site.status.nodeName !== node || site.metadata.deletionTimestamp) return;
        const { fence, phase } = site.status;
        const latest = fence > 0 ? await tx.get('Command', commandName(site.metadata.name, fence)) : undefined;
        if (fence > 0 && !latest) return; // not visible yet: no verdict
        const findings = driftFindings({
          phase,
          fence,
          latestCommandState: latest?.status.state,
          nodeFence: Number(observed.fence),
          expected: await expectedFingerprints(tx, site.metadata.name, site.metadata.uid),
          observed: wellFormedFingerprints(observed.fingerprints),
        });
        if (findings) await this.setDrifted(tx, site, findings, `the site on ${node} matches what was applied again`, now);
      });
    }
  }

  private async ingestHeartbeat(node: string, heartbeat: Heartbeat): Promise<void> {
    const now = this.clock.now();
    await this.leader.transaction(async (tx) => {
      const current = await tx.get('Node', node, { lock: true });
      if (!current) return;
      const last = current.status.lastHeartbeat ? Date.parse(current.status.lastHeartbeat) : 0;
      const load = Math.round(heartbeat.load * 100) / 100;
      // Throttled: a write when the heartbeat is getting old, or something visible changed.
      const fresh = now.getTime() - last < this.config.engine.heartbeatTimeoutMs / 3;
      if (fresh && current.status.load === load && current.status.agentVersion === heartbeat.agentVersion) return;
      const status = { ...current.status, lastHeartbeat: now.toISOString(), load, agentVersion: heartbeat.agentVersion };
      await tx.update(current, { ...writeOf(current), status: status }, now);
    });
  }
}

/** The Drifted condition a report asks for, or undefined when the site already says so. */
export function driftCondition(conditions: readonly Condition[], drift: readonly string[]): { type: 'Drifted'; status: 'True' | 'False'; reason: string; message: string } | undefined {
  const current = findCondition([...conditions], 'Drifted');
  // eslint-disable-next-line no-control-regex
  const lines = drift.map((line) => line.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200)).slice(0, 10);
  if (lines.length > 0) {
    const message = `${lines.join('; ')}${drift.length > lines.length ? ` (+${drift.length - lines.length} more)` : ''}`;
    return current?.status === 'True' && current.message === message ? undefined : { type: 'Drifted', status: 'True', reason: 'DriftDetected', message };
  }
  return current?.status === 'True' ? { type: 'Drifted', status: 'False', reason: 'NoDrift', message: 'the site matches what was applied' } : undefined;
}

/**
 * A site's current commit and deploy key as its node reported them (a malformed one is dropped:
 * status then says nothing rather than something wrong); the key's fingerprint is computed here,
 * as `ssh-keygen -l` prints it.
 */
export function siteIdentityOf(state: Pick<SiteState, 'currentCommit' | 'deployPublicKey'>): Pick<SiteStatus, 'currentCommit' | 'deployKey'> {
  const currentCommit = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(state.currentCommit) ? state.currentCommit : undefined;
  const key = /^ssh-ed25519 ([A-Za-z0-9+/]{68}={0,2})( [ -~]{0,200})?$/.exec(state.deployPublicKey.trim());
  const fingerprint = key?.[1] ? `SHA256:${createHash('sha256').update(Buffer.from(key[1], 'base64')).digest('base64').replace(/=+$/, '')}` : undefined;
  return { currentCommit, deployKey: key && fingerprint ? { publicKey: state.deployPublicKey.trim(), fingerprint } : undefined };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A site's releases as its node reported them; undefined when absent or not well-formed. */
export function releasesOf(state: Pick<SiteState, 'currentRelease' | 'releases'> | undefined): { currentRelease: string; releases: string[] } | undefined {
  if (!state || !RELEASE_ID_PATTERN.test(state.currentRelease)) return undefined;
  const releases = state.releases.filter((r) => RELEASE_ID_PATTERN.test(r)).slice(0, 50);
  return { currentRelease: state.currentRelease, releases };
}

/** The Node's capacity as its agent measured it: whole cores, memory in Mi. */
export function capacityOf(report: NodeReport): NodeStatus['capacity'] {
  const cpu = Math.min(4096, Math.max(1, Math.floor(report.cpus)));
  const mebibytes = Math.floor(report.memoryBytes / 1024 ** 2);
  if (mebibytes < 1 || mebibytes > 999_999) return undefined;
  return { cpu, memory: `${mebibytes}Mi` };
}

/** The node's public addresses as its agent reported them: well-formed IPs only, each once, sorted, at most 16. */
export function addressesOf(report: Pick<NodeReport, 'publicAddresses'>): string[] {
  return [...new Set(report.publicAddresses.filter((address) => isIP(address) !== 0 && !address.includes('%')))].sort().slice(0, 16);
}

/** The state machine's view of a wire CommandEvent (undefined: a kind this version does not know). */
export function agentCommandEvent(event: CommandEvent): AgentCommandEvent | undefined {
  const { sequence, kind } = event;
  switch (kind?.$case) {
    case undefined:
      return undefined;
    case 'accepted':
    case 'heartbeat':
      return { type: kind.$case, sequence };
    case 'progress':
      return { type: 'progress', sequence, step: kind.value.step, percent: kind.value.percent, bytes: kind.value.bytes, files: kind.value.files };
    case 'log':
      return { type: 'log', sequence, line: kind.value.line };
    case 'succeeded':
      return {
        type: 'succeeded',
        sequence,
        message: kind.value.message,
        ...(kind.value.backup ? { backup: backupResultOf(kind.value.backup) } : {}),
        ...(kind.value.certificate ? { certificate: kind.value.certificate } : {}),
      };
    case 'failed':
      return { type: 'failed', sequence, reason: kind.value.reason, message: kind.value.message, ...(kind.value.retryAfterSeconds > 0 ? { retryAfterSeconds: kind.value.retryAfterSeconds } : {}) };
    case 'rejected':
      return { type: 'rejected', sequence, reason: kind.value.reason, message: kind.value.message };
  }
}

/** A backup's result as the Command's status keeps it (applyCommandEvent validates it); the wire's empty strings are absent. */
export function backupResultOf(result: BackupResult): Record<string, unknown> {
  const present = (value: string) => (value === '' ? undefined : value);
  const snapshots = result.snapshots ?? { database: '', files: '', manifest: '' };
  return {
    snapshots: { database: present(snapshots.database), files: present(snapshots.files), manifest: present(snapshots.manifest) },
    snapshotTime: present(result.snapshotTime),
    bytesAdded: result.bytesAdded,
    bytesTotal: result.bytesTotal,
    files: result.files,
    durationSeconds: result.seconds,
    wordpressVersion: present(result.wordpressVersion),
    release: present(result.release),
    gitCommit: present(result.gitCommit),
  };
}
