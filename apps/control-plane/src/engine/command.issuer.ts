import { canTransition, COMMAND_IN_FLIGHT, inFlightMessage, COMMAND_SITE_LABEL, COMMAND_SITE_UID_LABEL, isDestructive, setCondition, siteTls, type BackupSnapshots, type CertificateAction, type CommandOperation, type CommandSpec, type Resource, type ResourceOf, type RestorePart, type SitePhase, type SiteSpec, type SiteStatus } from '@pressluft/domain';
import { commandSubject } from '@pressluft/platform';
import { Command, type IssueCertificate, type RestoreSite } from '@pressluft/proto';
import { recordEvent } from '../events/event.recorder.js';
import { highestFenceOfName } from '../resources/command.queries.js';
import { writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { insertOutbox } from './outbox.repository.js';
import { siteConfig } from './site-config.js';

export type Site = Resource<SiteSpec, SiteStatus>;

export function commandName(site: string, fence: number): string {
  return `${site}-${fence}`;
}

/**
 * What an operation needs beyond the site: a rollback's target release (empty: the previous one);
 * a backup's Backup and store; a restore's Restore, Backup, store, snapshots and the domains the
 * backed-up site had; a certificate's action (with the ACME directory for acme).
 */
export interface IssueOptions {
  readonly release?: string;
  readonly backup?: string;
  readonly store?: string;
  readonly restore?: string;
  readonly snapshots?: BackupSnapshots;
  readonly sourceDomains?: readonly string[];
  /** RestoreSite: what is restored (empty: everything). */
  readonly parts?: readonly RestorePart[];
  /** RestoreSite, CloneSite: the commit the backup's release was built from. */
  readonly gitCommit?: string;
  /** IssueCertificate: what to do, and for acme the control plane's ACME directory and contact. */
  readonly certificate?: CertificateAction;
  readonly acme?: { readonly directoryUrl: string; readonly email: string | undefined };
}

function required<T>(operation: CommandOperation, field: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`${operation} needs ${field}`);
  return value;
}

function payloadFor(operation: CommandOperation, site: Site, options: IssueOptions): NonNullable<Command['payload']> {
  switch (operation) {
    case 'ProvisionSite':
      return { $case: 'provisionSite', value: { site: siteConfig(site) } };
    // A remediation converges the site to its current spec, exactly what a deploy does on the node.
    case 'DeploySite':
    case 'RemediateDrift':
      return { $case: 'deploySite', value: { site: siteConfig(site) } };
    case 'DeleteSite':
      return { $case: 'deleteSite', value: { siteId: siteConfig(site).id } };
    case 'RollbackSite':
      return { $case: 'rollbackSite', value: { siteId: siteConfig(site).id, release: options.release ?? '' } };
    case 'RotateCredentials':
      return { $case: 'rotateCredentials', value: { siteId: siteConfig(site).id } };
    case 'CheckDrift':
      return { $case: 'checkDrift', value: { siteId: siteConfig(site).id } };
    case 'BackupSite':
      return { $case: 'backupSite', value: { siteId: siteConfig(site).id, store: required(operation, 'a store', options.store), backup: required(operation, 'a backup', options.backup) } };
    case 'RestoreSite':
      return { $case: 'restoreSite', value: restorePayload(operation, site, options) };
    case 'CloneSite':
      return { $case: 'cloneSite', value: { restore: restorePayload(operation, site, options) } };
    case 'IssueCertificate':
      return { $case: 'issueCertificate', value: { site: siteConfig(site), source: certificateSource(site, required(operation, 'a certificate action', options.certificate), options) } };
  }
}

function restorePayload(operation: CommandOperation, site: Site, options: IssueOptions): RestoreSite {
  const snapshots = required(operation, 'snapshots', options.snapshots);
  return {
    site: siteConfig(site),
    store: required(operation, 'a store', options.store),
    backup: required(operation, 'a backup', options.backup),
    snapshots: { database: snapshots.database ?? '', files: snapshots.files ?? '', manifest: snapshots.manifest ?? '' },
    sourceDomains: [...(options.sourceDomains ?? [])],
    parts: [...(options.parts ?? [])],
    gitCommit: options.gitCommit ?? '',
  };
}

/** What IssueCertificate asks the node for: an ACME order for the site's domains, the site's own chain (its key the node fetches), or removal. */
function certificateSource(site: Site, action: CertificateAction, options: IssueOptions): NonNullable<IssueCertificate['source']> {
  const tls = siteTls(site.spec);
  switch (action) {
    case 'acme': {
      const acme = required('IssueCertificate', 'an ACME directory', options.acme);
      return {
        $case: 'acme',
        value: {
          directoryUrl: acme.directoryUrl,
          email: acme.email ?? '',
          domains: [...site.spec.domains],
          challenge: tls.acme.challenge,
          dnsProvider: tls.acme.dns?.provider ?? '',
          dnsZone: tls.acme.dns?.zone ?? '',
        },
      };
    }
    case 'custom':
      return { $case: 'custom', value: { certificatePem: required('IssueCertificate', 'spec.tls.custom', tls.custom).certificate } };
    case 'remove':
      return { $case: 'remove', value: {} };
  }
}

/**
 * Issues a command in the caller's transaction (the caller holds the site's row lock): the
 * phase transition, status.fence + 1, the Command resource, its outbox row and an Event. All or
 * nothing: a crash before commit leaves no trace, after commit the relay will publish it.
 */
export async function issueCommand(
  tx: ResourceTransaction,
  site: Site,
  node: string,
  operation: CommandOperation,
  phase: SitePhase,
  now: Date,
  options: IssueOptions = {},
): Promise<ResourceOf<'Command'>> {
  if (site.status.phase !== phase && !canTransition(site.status.phase, phase)) {
    throw new Error(`site ${site.metadata.name}: ${site.status.phase} -> ${phase} is not an allowed transition`);
  }
  // A new incarnation of a deleted site's name continues after its predecessor's fences, so its
  // command names (also the JetStream message ids and the event receipts' keys) are new ones.
  const fence = (site.status.fence > 0 ? site.status.fence : await highestFenceOfName(tx.manager, site.metadata.name)) + 1;
  const name = commandName(site.metadata.name, fence);
  const at = now.toISOString();
  const status: SiteStatus = {
    ...site.status,
    phase,
    fence,
    nodeName: node,
    // What the planner says while the command runs, so its next passes have nothing to write.
    conditions: setCondition(site.status.conditions, { type: 'Reconciling', status: 'True', reason: COMMAND_IN_FLIGHT, message: inFlightMessage(site.metadata.name, operation, name, fence) }, now),
  };
  const updatedSite = await tx.update(site, { ...writeOf(site), status: status }, now);
  const { backup, restore, store, certificate } = options;
  const spec: CommandSpec = {
    site: site.metadata.name,
    node,
    fence,
    operation,
    generation: site.metadata.generation,
    ...(backup !== undefined ? { backup } : {}),
    ...(restore !== undefined ? { restore } : {}),
    ...(store !== undefined ? { store } : {}),
    ...(certificate !== undefined ? { certificate } : {}),
  };
  const command = await tx.create(
    { kind: 'Command', name, labels: { [COMMAND_SITE_LABEL]: site.metadata.name, [COMMAND_SITE_UID_LABEL]: site.metadata.uid }, annotations: {}, finalizers: [], spec, status: { state: 'PENDING', log: [], lastSequence: 0 }, generation: 1 },
    now,
  );
  if (!command) throw new Error(`command ${name} exists already: the site's fence went backwards`);
  const payload = Command.encode({ ref: { id: name, node, site: site.metadata.name, fence }, issuedAt: at, generation: site.metadata.generation, payload: payloadFor(operation, site, options) }).finish();
  await insertOutbox(tx.manager, name, commandSubject(node), Buffer.from(payload), now);
  await recordEvent(tx, updatedSite, 'Normal', 'CommandIssued', `${operation} (fence ${fence}${isDestructive(operation) ? ', destructive' : ''}) issued to node ${node}`, now);
  return command;
}
