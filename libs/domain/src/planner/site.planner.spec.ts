import { describe, expect, it } from 'vitest';
import { COMMAND_OPERATIONS, COMMAND_STATES, type CommandOperation, type CommandState } from '../command.js';
import type { RunPhase } from '../backup.js';
import { type Resource } from '../resource.js';
import { SITE_PHASES, canTransition, type SitePhase } from '../site-lifecycle.js';
import { siteSpecSchema, siteStatusSchema, type SiteSpec, type SiteStatus } from '../site.js';
import { isDestructive } from './operations.js';
import { type NodeView } from './pick-node.js';
import { SITE_FINALIZER, nextScheduledRun, planSite, type CommandView, type SiteAction, type SiteObservation } from './site.planner.js';

type Site = Resource<SiteSpec, SiteStatus>;

const NODE_A: NodeView = { name: 'node-a', ready: true, unschedulable: false, load: 0.5, labels: {}, capacity: undefined, sites: [] };
const NODE_B: NodeView = { name: 'node-b', ready: true, unschedulable: false, load: 0.2, labels: {}, capacity: undefined, sites: [] };

interface Given {
  phase?: SitePhase;
  generation?: number;
  observedGeneration?: number;
  fence?: number;
  statusNode?: string;
  specNode?: string;
  finalizers?: string[];
  deleting?: boolean;
  command?: Partial<CommandView> & Pick<CommandView, 'operation' | 'state'>;
  node?: NodeView | null;
  nodes?: NodeView[];
  driftPolicy?: 'Observe' | 'Remediate';
  /** The Drifted condition's status, if the site has one. */
  drifted?: 'True' | 'False';
  /** The node's health probe says the site does not serve (Ready False/NotServing, CrashLooping True). */
  notServing?: boolean;
  /** A deleting site's pre-delete Backup; default SUCCEEDED (null: none yet). */
  preDeleteBackup?: RunPhase | null;
  skipPreDeleteBackup?: boolean;
  /** A clone of site `base` (spec.source.clone.site). */
  clone?: boolean;
  nodeSelector?: Record<string, string>;
  /** A clone's source Backup (null or absent: none yet). */
  cloneBackup?: RunPhase | null;
  /** A clone's source site was deleted before its backup was taken. */
  cloneSourceGone?: boolean;
}

const AT = '2026-01-01T00:00:00Z';
const NOT_SERVING_STATUS = {
  conditions: [
    { type: 'Ready', status: 'False', reason: 'NotServing', message: 'on node node-a: GET / answered 502', lastTransitionTime: AT },
    { type: 'CrashLooping', status: 'True', reason: 'CrashLoopBackOff', message: 'keeps exiting', lastTransitionTime: AT },
  ],
  health: { state: 'NOT_SERVING', reason: 'HttpStatus', message: 'GET / answered 502', httpStatus: 502, processUp: false, restarts: 6, crashLooping: true, observedAt: AT },
};

function site(given: Given): Site {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: {
      name: 'shop',
      uid: '6f1c2a8e-0000-4000-8000-000000000001',
      generation: given.generation ?? 1,
      resourceVersion: '10',
      labels: {},
      annotations: {},
      finalizers: given.finalizers ?? [SITE_FINALIZER],
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(given.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
    },
    spec: siteSpecSchema.parse({
      domains: ['shop.example.test'],
      wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' },
      ...(given.specNode ? { nodeName: given.specNode } : {}),
      ...(given.driftPolicy ? { drift: { policy: given.driftPolicy } } : {}),
      ...(given.skipPreDeleteBackup ? { backup: { skipPreDeleteBackup: true } } : {}),
      ...(given.clone ? { source: { clone: { site: 'base' } } } : {}),
      ...(given.nodeSelector ? { placement: { nodeSelector: given.nodeSelector } } : {}),
    }),
    status: siteStatusSchema.parse({
      phase: given.phase ?? 'PENDING',
      observedGeneration: given.observedGeneration ?? 0,
      fence: given.fence ?? (given.command ? (given.command.fence ?? 1) : 0),
      ...(given.statusNode ? { nodeName: given.statusNode } : {}),
      ...(given.drifted ? { conditions: [{ type: 'Drifted', status: given.drifted, reason: given.drifted === 'True' ? 'DriftDetected' : 'NoDrift', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } : {}),
      ...(given.notServing ? NOT_SERVING_STATUS : {}),
    }),
  };
}

function observe(given: Given): SiteObservation {
  const command: CommandView | undefined = given.command && {
    name: `shop-${given.command.fence ?? 1}`,
    fence: 1,
    generation: 1,
    destructive: isDestructive(given.command.operation),
    ...given.command,
  };
  return {
    site: site(given),
    latestCommand: command,
    node: given.node === null ? undefined : (given.node ?? (given.statusNode || given.specNode ? NODE_A : undefined)),
    nodes: given.nodes ?? [NODE_A, NODE_B],
    ...(given.preDeleteBackup !== null ? { preDeleteBackup: { name: 'shop-pre-delete-6f1c2a8e', phase: given.preDeleteBackup ?? 'SUCCEEDED' } } : {}),
    ...(given.cloneBackup ? { cloneBackup: { name: 'shop-clone-6f1c2a8e', phase: given.cloneBackup } } : {}),
    ...(given.clone && !given.cloneBackup ? { cloneSourceExists: !given.cloneSourceGone } : {}),
  };
}

/** A bound, provisioned site that is converged: the baseline most scenarios vary. */
const ACTIVE: Given = {
  phase: 'ACTIVE',
  generation: 1,
  observedGeneration: 1,
  statusNode: 'node-a',
  command: { operation: 'ProvisionSite', state: 'SUCCEEDED' },
};

const issue = (operation: CommandOperation, phase: SitePhase): Extract<SiteAction, { type: 'issue' }> => ({
  type: 'issue',
  operation,
  phase,
  destructive: isDestructive(operation),
});

type Expected = SiteAction | { type: 'wait'; reason: string } | { type: 'complete'; phase: SitePhase; reason: string };

const scenarios: [string, Given, Expected][] = [
  // finalizer
  ['a new site first gets the cleanup finalizer', { finalizers: [] }, { type: 'addFinalizer' }],
  ['a live site keeps foreign finalizers and still gets ours', { finalizers: ['example.test/other'] }, { type: 'addFinalizer' }],
  ['a site being deleted without our finalizer is left to the API', { deleting: true, finalizers: [] }, { type: 'none' }],
  ['a deleted site with only a foreign finalizer is left alone', { ...ACTIVE, deleting: true, finalizers: ['example.test/other'] }, { type: 'none' }],

  // scheduling and binding
  ['a new site is bound to the least loaded node', {}, { type: 'bind', nodeName: 'node-b' }],
  ['a new site waits when no node is available', { nodes: [] }, { type: 'wait', reason: 'Unschedulable', message: 'Site shop: 0/0 nodes are available: 0 not Ready, 0 unschedulable, 0 do not match the node selector, 0 without capacity' }],
  [
    'a new site waits when every node is NotReady or cordoned',
    { nodes: [{ ...NODE_A, ready: false }, { ...NODE_B, unschedulable: true }] },
    { type: 'wait', reason: 'Unschedulable', message: 'Site shop: 0/2 nodes are available: 1 not Ready, 1 unschedulable, 0 do not match the node selector, 0 without capacity' },
  ],
  ['a pinned site is bound to its spec.nodeName, not the scheduler pick', { specNode: 'node-a' }, { type: 'bind', nodeName: 'node-a' }],
  [
    'a pinned site is bound even to a NotReady node (binding writes no node)',
    { specNode: 'node-a', nodes: [{ ...NODE_A, ready: false }, NODE_B] },
    { type: 'bind', nodeName: 'node-a' },
  ],
  ['a new site goes only to a node its selector matches', { nodeSelector: { tier: 'web' }, nodes: [NODE_B, { ...NODE_A, labels: { tier: 'web' } }] }, { type: 'bind', nodeName: 'node-a' }],
  [
    'a new site no node selects waits, saying so',
    { nodeSelector: { tier: 'web' } },
    { type: 'wait', reason: 'Unschedulable', message: 'Site shop: 0/2 nodes are available: 0 not Ready, 0 unschedulable, 2 do not match the node selector, 0 without capacity' },
  ],
  ['a clone is placed away from its source', { clone: true, nodes: [NODE_A, { ...NODE_B, sites: [{ name: 'base', requests: { cpuPercent: 100, memoryMi: 512 } }] }] }, { type: 'bind', nodeName: 'node-a' }],
  [
    'a pinned site is bound to a full node (a pin is the operator\'s decision)',
    { specNode: 'node-a', nodeSelector: { tier: 'web' }, nodes: [{ ...NODE_A, capacity: { cpuPercent: 100, memoryMi: 1024 }, sites: [{ name: 'big', requests: { cpuPercent: 100, memoryMi: 1024 } }] }] },
    { type: 'bind', nodeName: 'node-a' },
  ],
  ['a pinned site waits when its node does not exist', { specNode: 'node-x' }, { type: 'wait', reason: 'NodeNotFound' }],

  // provisioning
  ['a bound, never provisioned site is provisioned', { statusNode: 'node-a' }, issue('ProvisionSite', 'PROVISIONING')],
  ['a bound site on a cordoned node is still provisioned', { statusNode: 'node-a', node: { ...NODE_A, unschedulable: true } }, issue('ProvisionSite', 'PROVISIONING')],
  ['a bound site waits for its NotReady node', { statusNode: 'node-a', node: { ...NODE_A, ready: false } }, { type: 'wait', reason: 'NodeNotReady' }],
  ['a bound site whose node is gone waits', { statusNode: 'node-a', node: null }, { type: 'wait', reason: 'NodeNotFound' }],
  [
    'provisioning in flight waits',
    { phase: 'PROVISIONING', statusNode: 'node-a', command: { operation: 'ProvisionSite', state: 'RUNNING' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a pending (outbox) command counts as in flight',
    { phase: 'PROVISIONING', statusNode: 'node-a', command: { operation: 'ProvisionSite', state: 'PENDING' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a dispatched command counts as in flight, even on a NotReady node',
    { phase: 'PROVISIONING', statusNode: 'node-a', node: { ...NODE_A, ready: false }, command: { operation: 'ProvisionSite', state: 'DISPATCHED' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a successful provision makes the site ACTIVE',
    { phase: 'PROVISIONING', statusNode: 'node-a', command: { operation: 'ProvisionSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Provisioned' },
  ],
  [
    'a finished command is reflected even when the node went away since',
    { phase: 'PROVISIONING', statusNode: 'node-a', node: null, command: { operation: 'ProvisionSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Provisioned' },
  ],
  [
    'a failed provision makes the site FAILED',
    { phase: 'PROVISIONING', statusNode: 'node-a', command: { operation: 'ProvisionSite', state: 'FAILED' } },
    { type: 'complete', phase: 'FAILED', reason: 'ProvisionFailed' },
  ],
  [
    "a failed deploy names the node's reason (a health check that kept the old release)",
    { phase: 'DEPLOYING', statusNode: 'node-a', observedGeneration: 1, generation: 2, command: { operation: 'DeploySite', state: 'FAILED', generation: 2, reason: 'HealthCheckFailed', message: 'GET / of release 20261129T190000Z answered 500' } },
    { type: 'complete', phase: 'FAILED', reason: 'HealthCheckFailed' },
  ],
  [
    'a command the node rejected as stale makes the site FAILED',
    { phase: 'DEPLOYING', statusNode: 'node-a', observedGeneration: 1, generation: 2, command: { operation: 'DeploySite', state: 'REJECTED', generation: 2 } },
    { type: 'complete', phase: 'FAILED', reason: 'CommandRejected' },
  ],
  [
    'a failed provision is not retried for the same generation',
    { phase: 'FAILED', statusNode: 'node-a', observedGeneration: 1, command: { operation: 'ProvisionSite', state: 'FAILED' } },
    { type: 'wait', reason: 'Failed' },
  ],
  [
    'a failed provision is retried once the spec changed',
    { phase: 'FAILED', statusNode: 'node-a', generation: 2, observedGeneration: 1, command: { operation: 'ProvisionSite', state: 'FAILED' } },
    issue('ProvisionSite', 'PROVISIONING'),
  ],
  [
    'a failed site without any command is provisioned once the spec changed',
    { phase: 'FAILED', statusNode: 'node-a', generation: 2, observedGeneration: 1 },
    issue('ProvisionSite', 'PROVISIONING'),
  ],
  [
    'a failed site without any command waits while the spec is unchanged',
    { phase: 'FAILED', statusNode: 'node-a', generation: 1, observedGeneration: 1 },
    { type: 'wait', reason: 'Failed' },
  ],

  // converged and spec changes
  ['a converged site needs nothing', ACTIVE, { type: 'none' }],
  // Ready False for NotServing is the node's probe: the agent heals the site, the planner issues nothing.
  ['a NotServing, crash-looping ACTIVE site issues nothing', { ...ACTIVE, notServing: true }, { type: 'none' }],
  ['a NotServing site still gets a spec change deployed', { ...ACTIVE, notServing: true, generation: 2 }, issue('DeploySite', 'DEPLOYING')],
  ['a converged site after a successful backup needs nothing', { ...ACTIVE, command: { operation: 'BackupSite', state: 'SUCCEEDED' } }, { type: 'none' }],
  ['a failed backup does not fail the site', { ...ACTIVE, command: { operation: 'BackupSite', state: 'FAILED' } }, { type: 'none' }],
  ['a spec change on an ACTIVE site is deployed', { ...ACTIVE, generation: 2 }, issue('DeploySite', 'DEPLOYING')],
  ['several spec changes are deployed as one', { ...ACTIVE, generation: 5 }, issue('DeploySite', 'DEPLOYING')],
  ['a spec change waits for a NotReady node', { ...ACTIVE, generation: 2, node: { ...NODE_A, ready: false } }, { type: 'wait', reason: 'NodeNotReady' }],
  ['a converged site on a NotReady node reports it', { ...ACTIVE, node: { ...NODE_A, ready: false } }, { type: 'wait', reason: 'NodeNotReady' }],
  ['a converged site whose node is gone reports it', { ...ACTIVE, node: null }, { type: 'wait', reason: 'NodeNotFound' }],
  ['a cordoned node still gets deploys for its sites', { ...ACTIVE, generation: 2, node: { ...NODE_A, unschedulable: true } }, issue('DeploySite', 'DEPLOYING')],
  [
    'a spec change while a backup runs waits for it',
    { ...ACTIVE, generation: 2, command: { operation: 'BackupSite', state: 'RUNNING' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a spec change during a deploy waits for it (queued by generation)',
    { ...ACTIVE, phase: 'DEPLOYING', generation: 3, observedGeneration: 1, command: { operation: 'DeploySite', state: 'RUNNING', generation: 2 } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a deploy that finished while the spec moved on completes first',
    { ...ACTIVE, phase: 'DEPLOYING', generation: 3, observedGeneration: 1, command: { operation: 'DeploySite', state: 'SUCCEEDED', generation: 2 } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Deployed' },
  ],
  [
    '... and the newer generation is deployed next',
    { ...ACTIVE, generation: 3, observedGeneration: 2, command: { operation: 'DeploySite', state: 'SUCCEEDED', generation: 2 } },
    issue('DeploySite', 'DEPLOYING'),
  ],
  [
    'a failed deploy makes the site FAILED',
    { ...ACTIVE, phase: 'DEPLOYING', generation: 2, command: { operation: 'DeploySite', state: 'FAILED', generation: 2 } },
    { type: 'complete', phase: 'FAILED', reason: 'DeployFailed' },
  ],
  [
    'a failed deploy is not retried for the same generation (no hot loop)',
    { ...ACTIVE, phase: 'FAILED', generation: 2, observedGeneration: 2, command: { operation: 'DeploySite', state: 'FAILED', generation: 2 } },
    { type: 'wait', reason: 'Failed' },
  ],
  [
    'a failed deploy is retried as a deploy of the newer spec',
    { ...ACTIVE, phase: 'FAILED', generation: 3, observedGeneration: 2, command: { operation: 'DeploySite', state: 'FAILED', generation: 2 } },
    issue('DeploySite', 'DEPLOYING'),
  ],
  [
    'a failed rollback is retried as a deploy of the newer spec',
    { ...ACTIVE, phase: 'FAILED', generation: 3, observedGeneration: 2, command: { operation: 'RollbackSite', state: 'FAILED', generation: 2 } },
    issue('DeploySite', 'DEPLOYING'),
  ],
  [
    'a failed deploy retry waits for a NotReady node',
    { ...ACTIVE, phase: 'FAILED', generation: 3, observedGeneration: 2, node: { ...NODE_A, ready: false }, command: { operation: 'DeploySite', state: 'FAILED', generation: 2 } },
    { type: 'wait', reason: 'NodeNotReady' },
  ],
  [
    'a failed site whose newest command is a backup is retried by status.observedGeneration',
    { ...ACTIVE, phase: 'FAILED', generation: 3, observedGeneration: 2, command: { operation: 'BackupSite', state: 'SUCCEEDED', generation: 3 } },
    issue('DeploySite', 'DEPLOYING'),
  ],

  // drift (the Drifted condition is set by the ingest from the node's fingerprints)
  ['a drifted site with policy Remediate is converged back', { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'True' }, issue('RemediateDrift', 'DEPLOYING')],
  ['a drifted site with policy Observe is only reported', { ...ACTIVE, driftPolicy: 'Observe', drifted: 'True' }, { type: 'none' }],
  ['a site with policy Remediate and no drift needs nothing', { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'False' }, { type: 'none' }],
  ['a site with policy Remediate and no drift condition needs nothing', { ...ACTIVE, driftPolicy: 'Remediate' }, { type: 'none' }],
  [
    'a drifted site waits while a command for it is in flight',
    { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'True', command: { operation: 'CheckDrift', state: 'RUNNING' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a drifted site with a pending spec change gets the deploy (which converges everything anyway)',
    { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'True', generation: 2 },
    issue('DeploySite', 'DEPLOYING'),
  ],
  [
    'a drifted site waits for its NotReady node',
    { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'True', node: { ...NODE_A, ready: false } },
    { type: 'wait', reason: 'NodeNotReady' },
  ],
  [
    'a drifted FAILED site is not remediated (the failure needs a spec change or an operator)',
    { ...ACTIVE, phase: 'FAILED', driftPolicy: 'Remediate', drifted: 'True', command: { operation: 'DeploySite', state: 'FAILED' } },
    { type: 'wait', reason: 'Failed' },
  ],
  [
    'a successful remediation makes the site ACTIVE',
    { ...ACTIVE, phase: 'DEPLOYING', driftPolicy: 'Remediate', command: { operation: 'RemediateDrift', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'DriftRemediated' },
  ],
  [
    'a failed remediation makes the site FAILED',
    { ...ACTIVE, phase: 'DEPLOYING', driftPolicy: 'Remediate', drifted: 'True', command: { operation: 'RemediateDrift', state: 'FAILED' } },
    { type: 'complete', phase: 'FAILED', reason: 'RemediationFailed' },
  ],
  [
    '... and is not retried for the same generation (no remediation loop)',
    { ...ACTIVE, phase: 'FAILED', driftPolicy: 'Remediate', drifted: 'True', command: { operation: 'RemediateDrift', state: 'FAILED' } },
    { type: 'wait', reason: 'Failed' },
  ],
  ['a site being deleted is not remediated', { ...ACTIVE, driftPolicy: 'Remediate', drifted: 'True', deleting: true }, issue('DeleteSite', 'DELETING')],

  // rollbacks, clones, restores (issued by operators; the planner reflects them)
  [
    'a successful rollback makes the site ACTIVE',
    { ...ACTIVE, phase: 'DEPLOYING', command: { operation: 'RollbackSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'RolledBack' },
  ],
  [
    'a successful clone makes the site ACTIVE',
    { ...ACTIVE, phase: 'CLONING', command: { operation: 'CloneSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Cloned' },
  ],
  [
    'a successful restore makes the site ACTIVE',
    { ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Restored' },
  ],
  [
    'a failed restore leaves the site ACTIVE (the node left it as it was)',
    { ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'FAILED', reason: 'HealthCheckFailed' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'RestoreFailed' },
  ],
  [
    'an abandoned restore makes the site FAILED (nobody knows how far it got)',
    { ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'FAILED', reason: 'Abandoned' } },
    { type: 'complete', phase: 'FAILED', reason: 'Abandoned' },
  ],
  [
    'a rejected restore leaves the site ACTIVE',
    { ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'REJECTED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'RestoreFailed' },
  ],
  [
    'after a failed restore the ACTIVE site takes spec changes again',
    { ...ACTIVE, generation: 2, command: { operation: 'RestoreSite', state: 'FAILED' } },
    issue('DeploySite', 'DEPLOYING'),
  ],
  [
    'a failed restore (destructive) is never retried, not even for a new spec',
    { ...ACTIVE, phase: 'FAILED', generation: 4, command: { operation: 'RestoreSite', state: 'FAILED' } },
    { type: 'wait', reason: 'RestoreFailed' },
  ],
  [
    'a failed clone (destructive) is never retried',
    { ...ACTIVE, phase: 'FAILED', generation: 4, command: { operation: 'CloneSite', state: 'FAILED' } },
    { type: 'wait', reason: 'CloneFailed' },
  ],

  // stalls
  [
    'a stalled deploy waits for an operator',
    { ...ACTIVE, phase: 'DEPLOYING', generation: 2, command: { operation: 'DeploySite', state: 'STALLED', generation: 2 } },
    { type: 'wait', reason: 'Stalled' },
  ],
  [
    'a stalled restore waits for an operator',
    { ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'STALLED' } },
    { type: 'wait', reason: 'Stalled' },
  ],
  [
    'a stalled backup blocks a deploy',
    { ...ACTIVE, generation: 2, command: { operation: 'BackupSite', state: 'STALLED' } },
    { type: 'wait', reason: 'Stalled' },
  ],

  // consistency between the site and its commands
  [
    'a command newer than status.fence (stale site read) waits',
    { ...ACTIVE, generation: 2, fence: 1, command: { operation: 'DeploySite', state: 'SUCCEEDED', fence: 2 } },
    { type: 'wait', reason: 'StaleObservation' },
  ],
  [
    'a command older than status.fence (stale command read) is not completed',
    { ...ACTIVE, phase: 'DEPLOYING', fence: 3, command: { operation: 'DeploySite', state: 'SUCCEEDED', fence: 2 } },
    { type: 'wait', reason: 'StaleObservation' },
  ],
  ['a fence without any visible command waits', { ...ACTIVE, fence: 4, command: undefined }, { type: 'wait', reason: 'CommandNotFound' }],
  [
    'a running-work phase whose newest command is another operation fails visibly',
    { ...ACTIVE, phase: 'DEPLOYING', command: { operation: 'BackupSite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'FAILED', reason: 'PhaseCommandMismatch' },
  ],
  [
    'a running-work phase without any command fails visibly',
    { phase: 'PROVISIONING', statusNode: 'node-a' },
    { type: 'complete', phase: 'FAILED', reason: 'PhaseCommandMismatch' },
  ],
  [
    'a live site in DELETING is an inconsistency, not a deletion',
    { ...ACTIVE, phase: 'DELETING', command: { operation: 'BackupSite', state: 'SUCCEEDED' } },
    { type: 'wait', reason: 'PhaseCommandMismatch' },
  ],

  // deletion
  ['deleting a never-provisioned site lets the row go', { deleting: true }, { type: 'removeFinalizer' }],
  ['deleting a bound but never-provisioned site lets the row go', { deleting: true, statusNode: 'node-a' }, { type: 'removeFinalizer' }],
  [
    'deleting a never-provisioned site on a vanished node lets the row go',
    { deleting: true, statusNode: 'node-a', node: null },
    { type: 'removeFinalizer' },
  ],
  ['deleting an ACTIVE site issues DeleteSite', { ...ACTIVE, deleting: true }, issue('DeleteSite', 'DELETING')],

  // a clone: its source's backup first, then one CloneSite (PENDING -> CLONING -> ACTIVE)
  ['a bound clone takes a backup of its source first', { clone: true, statusNode: 'node-a' }, { type: 'createBackup', reason: 'clone-source' }],
  ['an unbound clone is bound first', { clone: true }, { type: 'bind', nodeName: 'node-b' }],
  ['a clone waits for its source backup', { clone: true, statusNode: 'node-a', cloneBackup: 'PENDING' }, { type: 'wait', reason: 'BackingUpSource' }],
  ['a clone waits while its source backup runs', { clone: true, statusNode: 'node-a', cloneBackup: 'RUNNING' }, { type: 'wait', reason: 'BackingUpSource' }],
  ['a failed source backup blocks the clone', { clone: true, statusNode: 'node-a', cloneBackup: 'FAILED' }, { type: 'wait', reason: 'CloneSourceBackupFailed' }],
  ['a clone whose source is gone waits for an operator', { clone: true, statusNode: 'node-a', cloneSourceGone: true }, { type: 'wait', reason: 'CloneSourceNotFound' }],
  ['a succeeded source backup lets CloneSite go', { clone: true, statusNode: 'node-a', cloneBackup: 'SUCCEEDED' }, issue('CloneSite', 'CLONING')],
  ['a clone on a node that is not Ready waits', { clone: true, statusNode: 'node-a', cloneBackup: 'SUCCEEDED', node: { ...NODE_A, ready: false } }, { type: 'wait', reason: 'NodeNotReady' }],
  ['a clone in flight waits', { clone: true, phase: 'CLONING', statusNode: 'node-a', command: { operation: 'CloneSite', state: 'RUNNING' } }, { type: 'wait', reason: 'CommandInFlight' }],
  ['a succeeded clone is ACTIVE', { clone: true, phase: 'CLONING', statusNode: 'node-a', command: { operation: 'CloneSite', state: 'SUCCEEDED' } }, { type: 'complete', phase: 'ACTIVE', reason: 'Cloned' }],
  ['a failed clone is FAILED', { clone: true, phase: 'CLONING', statusNode: 'node-a', command: { operation: 'CloneSite', state: 'FAILED' } }, { type: 'complete', phase: 'FAILED', reason: 'CloneFailed' }],
  ['a failed clone is never retried on its own', { clone: true, phase: 'FAILED', generation: 2, observedGeneration: 1, statusNode: 'node-a', command: { operation: 'CloneSite', state: 'FAILED' } }, { type: 'wait', reason: 'CloneFailed' }],
  ['an ACTIVE clone deploys spec changes like any site', { ...ACTIVE, clone: true, generation: 2, command: { operation: 'CloneSite', state: 'SUCCEEDED' } }, issue('DeploySite', 'DEPLOYING')],

  // the mandatory pre-delete backup
  ['deleting an ACTIVE site takes a backup first', { ...ACTIVE, deleting: true, preDeleteBackup: null }, { type: 'createBackup', reason: 'pre-delete' }],
  ['deleting a FAILED site takes a backup first', { ...ACTIVE, phase: 'FAILED', deleting: true, preDeleteBackup: null, command: { operation: 'DeploySite', state: 'FAILED' } }, { type: 'createBackup', reason: 'pre-delete' }],
  ['the deletion waits for a PENDING pre-delete backup', { ...ACTIVE, deleting: true, preDeleteBackup: 'PENDING' }, { type: 'wait', reason: 'BackingUp' }],
  ['the deletion waits while the pre-delete backup runs', { ...ACTIVE, deleting: true, preDeleteBackup: 'RUNNING', command: { operation: 'BackupSite', state: 'RUNNING', fence: 2 }, fence: 2 }, { type: 'wait', reason: 'CommandInFlight' }],
  ['a failed pre-delete backup blocks the deletion', { ...ACTIVE, deleting: true, preDeleteBackup: 'FAILED', command: { operation: 'BackupSite', state: 'FAILED', fence: 2 }, fence: 2 }, { type: 'wait', reason: 'PreDeleteBackupFailed' }],
  ['a succeeded pre-delete backup lets DeleteSite go', { ...ACTIVE, deleting: true, preDeleteBackup: 'SUCCEEDED', command: { operation: 'BackupSite', state: 'SUCCEEDED', fence: 2 }, fence: 2 }, issue('DeleteSite', 'DELETING')],
  [
    'skipPreDeleteBackup deletes without a backup, with a warning',
    { ...ACTIVE, deleting: true, preDeleteBackup: null, skipPreDeleteBackup: true },
    { ...issue('DeleteSite', 'DELETING'), warning: { reason: 'PreDeleteBackupSkipped', message: 'Site shop: deleted without a pre-delete backup (spec.backup.skipPreDeleteBackup)' } },
  ],
  ['a never-provisioned site needs no pre-delete backup', { deleting: true, preDeleteBackup: null }, { type: 'removeFinalizer' }],
  ['deleting an ACTIVE site with pending spec changes issues DeleteSite, not a deploy', { ...ACTIVE, generation: 5, deleting: true }, issue('DeleteSite', 'DELETING')],
  [
    'deleting a FAILED site (failed provision left resources behind) issues DeleteSite',
    { phase: 'FAILED', statusNode: 'node-a', observedGeneration: 1, deleting: true, command: { operation: 'ProvisionSite', state: 'FAILED' } },
    issue('DeleteSite', 'DELETING'),
  ],
  [
    'deleting a site after a failed restore issues DeleteSite (deletion is how to abandon it)',
    { ...ACTIVE, phase: 'FAILED', deleting: true, command: { operation: 'RestoreSite', state: 'FAILED' } },
    issue('DeleteSite', 'DELETING'),
  ],
  [
    'deleting while a deploy runs waits for it',
    { ...ACTIVE, phase: 'DEPLOYING', deleting: true, command: { operation: 'DeploySite', state: 'RUNNING' } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'deleting after a deploy finished completes the deploy first (DEPLOYING cannot go to DELETING)',
    { ...ACTIVE, phase: 'DEPLOYING', deleting: true, command: { operation: 'DeploySite', state: 'SUCCEEDED' } },
    { type: 'complete', phase: 'ACTIVE', reason: 'Deployed' },
  ],
  [
    'deleting after a provision finished completes it first, then deletes',
    { phase: 'PROVISIONING', statusNode: 'node-a', deleting: true, command: { operation: 'ProvisionSite', state: 'FAILED' } },
    { type: 'complete', phase: 'FAILED', reason: 'ProvisionFailed' },
  ],
  [
    'a running deletion waits',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'RUNNING', fence: 2 } },
    { type: 'wait', reason: 'CommandInFlight' },
  ],
  [
    'a successful deletion lets the row go',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'SUCCEEDED', fence: 2 } },
    { type: 'removeFinalizer' },
  ],
  [
    'a successful deletion lets the row go even if the node has gone since',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, node: null, command: { operation: 'DeleteSite', state: 'SUCCEEDED', fence: 2 } },
    { type: 'removeFinalizer' },
  ],
  [
    'a failed deletion is never retried automatically',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'FAILED', fence: 2 } },
    { type: 'wait', reason: 'DeleteFailed' },
  ],
  [
    'a rejected deletion is never retried automatically',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'REJECTED', fence: 2 } },
    { type: 'wait', reason: 'DeleteFailed' },
  ],
  [
    'a stalled deletion waits for an operator',
    { ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'STALLED', fence: 2 } },
    { type: 'wait', reason: 'Stalled' },
  ],
  ['deleting a site whose node is NotReady waits for it', { ...ACTIVE, deleting: true, node: { ...NODE_A, ready: false } }, { type: 'wait', reason: 'NodeNotReady' }],
  ['deleting a provisioned site whose node is gone waits (an operator may abandon)', { ...ACTIVE, deleting: true, node: null }, { type: 'wait', reason: 'NodeNotFound' }],
  [
    'deleting a site whose commands are not visible waits rather than orphaning node resources',
    { ...ACTIVE, deleting: true, fence: 3, command: undefined },
    { type: 'wait', reason: 'CommandNotFound' },
  ],
  [
    'deleting a DELETING site without a DeleteSite command is an inconsistency',
    { ...ACTIVE, phase: 'DELETING', deleting: true },
    { type: 'wait', reason: 'PhaseCommandMismatch' },
  ],
];

function assertAllowed(observed: SiteObservation, action: SiteAction): void {
  if (action.type === 'issue' || action.type === 'complete') {
    const from = observed.site.status.phase;
    expect(canTransition(from, action.phase), `${from} -> ${action.phase}`).toBe(true);
  }
  if (action.type === 'issue') expect(action.destructive).toBe(isDestructive(action.operation));
  if (action.type === 'wait') {
    expect(action.reason).toMatch(/^[A-Z][A-Za-z]*$/);
    expect(action.message).toContain('shop');
  }
}

describe('planSite', () => {
  it.each(scenarios)('%s', (_name, given, expected) => {
    const observed = observe(given);
    const action = planSite(observed);
    expect(action).toMatchObject(expected);
    assertAllowed(observed, action);
    // Pure and level-triggered: the same world gives the same answer.
    expect(planSite(observed)).toEqual(action);
  });

  it('never mutates the observation', () => {
    const observed = observe({ ...ACTIVE, generation: 2 });
    const copy = structuredClone(observed);
    planSite(observed);
    expect(observed).toEqual(copy);
  });

  it('waits for a pinned node that exists but is NotReady once bound', () => {
    const action = planSite(observe({ specNode: 'node-a', statusNode: 'node-a', node: { ...NODE_A, ready: false } }));
    expect(action).toMatchObject({ type: 'wait', reason: 'NodeNotReady' });
  });

  it('says in a stalled destructive command message that it is never retried', () => {
    const action = planSite(observe({ ...ACTIVE, phase: 'RESTORING', command: { operation: 'RestoreSite', state: 'STALLED' } }));
    expect(action).toMatchObject({ type: 'wait', message: expect.stringContaining('never retried automatically') });
  });

  it('tells how to go on after a failed pre-delete backup', () => {
    const action = planSite(observe({ ...ACTIVE, deleting: true, preDeleteBackup: 'FAILED' }));
    expect(action).toMatchObject({ type: 'wait', message: expect.stringMatching(/nothing was deleted.*Delete Backup shop-pre-delete-6f1c2a8e to try again.*skipPreDeleteBackup/) });
  });

  it('tells the operator how to get out of a failed deletion', () => {
    const action = planSite(observe({ ...ACTIVE, phase: 'DELETING', fence: 2, deleting: true, command: { operation: 'DeleteSite', state: 'FAILED', fence: 2 } }));
    expect(action).toMatchObject({ type: 'wait', message: expect.stringMatching(/operator must retry it or abandon it/) });
  });
});

/** Every phase x newest-command (operation x state, or none) x deleting x node health, exhaustively. */
describe('planSite over the whole state space', () => {
  const commands: (Given['command'] | undefined)[] = [
    undefined,
    ...COMMAND_OPERATIONS.flatMap((operation) => COMMAND_STATES.map((state: CommandState) => ({ operation, state }))),
  ];
  const nodes: (NodeView | null)[] = [NODE_A, { ...NODE_A, ready: false }, null];
  const worlds = SITE_PHASES.flatMap((phase) =>
    commands.flatMap((command) =>
      [false, true].flatMap((deleting) =>
        nodes.flatMap((node) =>
          [1, 2].map((generation): Given => ({ phase, command, deleting, node, generation, observedGeneration: 1, statusNode: 'node-a' })),
        ),
      ),
    ),
  );

  it('covers every combination', () => expect(worlds.length).toBe(8 * (1 + COMMAND_OPERATIONS.length * 7) * 2 * 3 * 2));

  it('only ever issues or completes allowed transitions', () => {
    for (const given of worlds) assertAllowed(observe(given), planSite(observe(given)));
  });

  it('never issues a command while one is in flight or stalled', () => {
    for (const given of worlds) {
      if (given.command && ['PENDING', 'DISPATCHED', 'RUNNING', 'STALLED'].includes(given.command.state)) {
        expect(planSite(observe(given)).type).toBe('wait');
      }
    }
  });

  it('never issues a destructive command except DeleteSite for a site being deleted', () => {
    for (const given of worlds) {
      const action = planSite(observe(given));
      if (action.type === 'issue' && action.destructive) {
        expect(action.operation).toBe('DeleteSite');
        expect(given.deleting).toBe(true);
      }
    }
  });

  it('never repeats a failed command for the generation it failed at', () => {
    for (const given of worlds) {
      const action = planSite(observe(given));
      if (given.phase === 'FAILED' && given.command?.state === 'FAILED' && given.generation === 1 && !given.deleting) {
        expect(action.type).toBe('wait');
      }
    }
  });

  it('never issues DeleteSite before the pre-delete backup SUCCEEDED (unless skipped)', () => {
    const backups: (RunPhase | null)[] = [null, 'PENDING', 'RUNNING', 'FAILED', 'SUCCEEDED'];
    for (const given of worlds.filter((g) => g.deleting)) {
      for (const preDeleteBackup of backups) {
        const action = planSite(observe({ ...given, preDeleteBackup }));
        if (action.type === 'issue' && action.operation === 'DeleteSite') expect(preDeleteBackup).toBe('SUCCEEDED');
        const skipped = planSite(observe({ ...given, preDeleteBackup, skipPreDeleteBackup: true }));
        if (skipped.type === 'issue') expect(skipped.warning?.reason).toBe('PreDeleteBackupSkipped');
      }
    }
  });

  it('lets the row go only after a successful DeleteSite (or when nothing was ever sent)', () => {
    for (const given of worlds) {
      if (planSite(observe(given)).type === 'removeFinalizer') {
        expect(given.deleting).toBe(true);
        if (given.command === undefined) expect(observe(given).site.status.fence).toBe(0);
        else expect(given.command).toMatchObject({ operation: 'DeleteSite', state: 'SUCCEEDED' });
      }
    }
  });
});

/**
 * A tiny world that executes the planner's actions the way the reconciler does, with an agent
 * that finishes each command with a chosen outcome. It checks end states, not call sequences.
 */
class World {
  site: Site;
  command: CommandView | undefined;
  nodes: NodeView[] = [NODE_A, NODE_B];
  removed = false;
  /** The pre-delete Backup once asked for; it ends with `backupOutcome`. */
  backup: { name: string; phase: RunPhase } | undefined;
  backupOutcome: RunPhase = 'SUCCEEDED';
  readonly actions: SiteAction[] = [];

  constructor(given: Given = { finalizers: [] }) {
    this.site = site(given);
  }

  observe(): SiteObservation {
    const bound = this.site.status.nodeName ?? this.site.spec.nodeName;
    return {
      site: structuredClone(this.site),
      latestCommand: this.command && { ...this.command },
      node: this.nodes.find((n) => n.name === bound),
      nodes: this.nodes,
      ...(this.backup ? { preDeleteBackup: { ...this.backup } } : {}),
    };
  }

  /** Reconciles until the planner has nothing more to do right now; returns the final action. */
  settle(agent: (command: CommandView) => CommandState = () => 'SUCCEEDED', limit = 20): SiteAction {
    for (let pass = 0; pass < limit; pass++) {
      if (this.removed) return { type: 'none' };
      if (this.command && ['PENDING', 'DISPATCHED', 'RUNNING'].includes(this.command.state)) this.command.state = agent(this.command);
      const observed = this.observe();
      const action = planSite(observed);
      assertAllowed(observed, action);
      this.actions.push(action);
      if (!this.apply(action)) return action;
    }
    throw new Error(`no fixed point after ${limit} passes: ${JSON.stringify(this.actions.slice(-4))}`);
  }

  update(mutate: (spec: SiteSpec) => void): void {
    mutate(this.site.spec);
    this.site.metadata.generation++;
  }

  delete(): void {
    this.site.metadata.deletionTimestamp = '2026-01-03T00:00:00Z';
  }

  private apply(action: SiteAction): boolean {
    const { metadata, status } = this.site;
    switch (action.type) {
      case 'none':
      case 'wait':
        return false;
      case 'addFinalizer':
        metadata.finalizers = [...metadata.finalizers, SITE_FINALIZER];
        return true;
      case 'removeFinalizer':
        metadata.finalizers = metadata.finalizers.filter((f) => f !== SITE_FINALIZER);
        this.removed = metadata.deletionTimestamp !== undefined && metadata.finalizers.length === 0;
        return true;
      case 'bind':
        status.nodeName = action.nodeName;
        return true;
      case 'issue':
        status.phase = action.phase;
        status.fence++;
        this.command = {
          name: `shop-${status.fence}`,
          operation: action.operation,
          state: 'PENDING',
          fence: status.fence,
          generation: metadata.generation,
          destructive: action.destructive,
        };
        return true;
      case 'createBackup':
        this.backup = { name: 'shop-pre-delete-6f1c2a8e', phase: this.backupOutcome };
        return true;
      case 'complete':
        status.phase = action.phase;
        status.observedGeneration = this.command?.generation ?? status.observedGeneration;
        return true;
    }
  }
}

describe('planSite driving a site through its life', () => {
  it('converges a new site to ACTIVE on the least loaded node', () => {
    const world = new World();
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.site.status).toMatchObject({ phase: 'ACTIVE', nodeName: 'node-b', observedGeneration: 1, fence: 1 });
    expect(world.actions.map((a) => a.type)).toEqual(['addFinalizer', 'bind', 'issue', 'complete', 'none']);
  });

  it('deploys a spec change and converges again', () => {
    const world = new World();
    world.settle();
    world.update((spec) => (spec.domains = ['shop.example.test', 'www.shop.example.test']));
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.site.status).toMatchObject({ phase: 'ACTIVE', observedGeneration: 2, fence: 2 });
    expect(world.command).toMatchObject({ operation: 'DeploySite', generation: 2 });
  });

  it('picks up a spec change made during a deploy with one more deploy', () => {
    const world = new World();
    world.settle();
    world.update((spec) => (spec.php.maxChildren = 8));
    world.settle(() => 'RUNNING', 3); // deploy issued and running
    expect(world.site.status.phase).toBe('DEPLOYING');
    world.update((spec) => (spec.php.maxChildren = 9));
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.site.status).toMatchObject({ phase: 'ACTIVE', observedGeneration: 3, fence: 3 });
  });

  it('stops at FAILED after a failed deploy and retries only when the spec changes', () => {
    const world = new World();
    world.settle();
    world.update((spec) => (spec.php.maxChildren = 8));
    expect(world.settle(() => 'FAILED')).toMatchObject({ type: 'wait', reason: 'Failed' });
    expect(world.site.status).toMatchObject({ phase: 'FAILED', observedGeneration: 2, fence: 2 });
    // Reconciling again and again does not resend anything.
    expect(world.settle()).toMatchObject({ type: 'wait', reason: 'Failed' });
    expect(world.site.status.fence).toBe(2);
    world.update((spec) => (spec.php.maxChildren = 6));
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.site.status).toMatchObject({ phase: 'ACTIVE', observedGeneration: 3, fence: 3 });
  });

  it('retries a failed provision by provisioning again once the spec changed', () => {
    const world = new World();
    expect(world.settle(() => 'FAILED')).toMatchObject({ type: 'wait', reason: 'Failed' });
    world.update((spec) => (spec.wordpress.title = 'Shop 2'));
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.command).toMatchObject({ operation: 'ProvisionSite', fence: 2 });
    expect(world.site.status.phase).toBe('ACTIVE');
  });

  it('deletes a provisioned site through DeleteSite and then lets the row go', () => {
    const world = new World();
    world.settle();
    world.delete();
    world.settle();
    expect(world.removed).toBe(true);
    expect(world.command).toMatchObject({ operation: 'DeleteSite', destructive: true });
  });

  it('does not delete when the pre-delete backup fails, and deletes once it is skipped', () => {
    const world = new World();
    world.settle();
    world.backupOutcome = 'FAILED';
    world.delete();
    expect(world.settle()).toMatchObject({ type: 'wait', reason: 'PreDeleteBackupFailed' });
    expect(world.command?.operation).toBe('ProvisionSite');
    expect(world.removed).toBe(false);
    world.site.spec.backup = { ...world.site.spec.backup, retention: { daily: 7, weekly: 4, monthly: 0 }, preDeleteKeepDays: 30, skipPreDeleteBackup: true };
    world.settle();
    expect(world.removed).toBe(true);
    expect(world.command).toMatchObject({ operation: 'DeleteSite' });
  });

  it('lets a never-provisioned site go without a command', () => {
    const world = new World();
    world.nodes = [];
    expect(world.settle()).toMatchObject({ type: 'wait', reason: 'Unschedulable' });
    world.delete();
    world.settle();
    expect(world.removed).toBe(true);
    expect(world.command).toBeUndefined();
  });

  it('keeps a site whose deletion failed until an operator acts', () => {
    const world = new World();
    world.settle();
    world.delete();
    expect(world.settle((command) => (command.operation === 'DeleteSite' ? 'FAILED' : 'SUCCEEDED'))).toMatchObject({
      type: 'wait',
      reason: 'DeleteFailed',
    });
    expect(world.settle()).toMatchObject({ type: 'wait', reason: 'DeleteFailed' });
    expect(world.removed).toBe(false);
    expect(world.site.status.fence).toBe(2);
  });

  it('waits out a NotReady node and continues when it is back', () => {
    const world = new World();
    world.settle();
    world.nodes = [NODE_A, { ...NODE_B, ready: false }];
    world.update((spec) => (spec.php.maxChildren = 8));
    expect(world.settle()).toMatchObject({ type: 'wait', reason: 'NodeNotReady' });
    world.nodes = [NODE_A, NODE_B];
    expect(world.settle()).toEqual({ type: 'none' });
    expect(world.site.status).toMatchObject({ phase: 'ACTIVE', nodeName: 'node-b', observedGeneration: 2 });
  });
});

describe('scheduled database credential rotation', () => {
  const rotating = (schedule: string | undefined, now: string | undefined, rotatedAt?: string): SiteObservation => {
    const observed = observe({ ...ACTIVE, command: { operation: 'ProvisionSite', state: 'SUCCEEDED' } });
    return {
      ...observed,
      site: {
        ...observed.site,
        spec: { ...observed.site.spec, ...(schedule ? { database: { rotation: { schedule } } } : {}) },
        status: { ...observed.site.status, ...(rotatedAt ? { credentialsRotatedAt: rotatedAt } : {}) },
      },
      ...(now ? { now: new Date(now) } : {}),
    };
  };

  it.each([
    ['no schedule', undefined, '2026-11-29T04:00:00Z', undefined, 'none'],
    ['no clock (nothing is scheduled)', '0 3 * * *', undefined, undefined, 'none'],
    ['never rotated, a run since creation', '0 3 * * *', '2026-11-29T04:00:00Z', undefined, 'issue'],
    ['rotated after the newest run', '0 3 * * *', '2026-11-29T04:00:00Z', '2026-11-29T03:00:30Z', 'none'],
    ['rotated before the newest run', '0 3 * * *', '2026-11-29T04:00:00Z', '2026-11-28T03:00:10Z', 'issue'],
    ['the run is later today', '0 3 * * *', '2026-11-29T02:00:00Z', '2026-11-28T03:00:10Z', 'none'],
  ] as const)('%s', (_, schedule, now, rotatedAt, expected) => {
    const action = planSite(rotating(schedule, now, rotatedAt));
    if (expected === 'none') expect(action.type).toBe('none');
    else expect(action).toMatchObject({ type: 'issue', operation: 'RotateCredentials' });
  });

  // A rotation the node fails (or gives up on as a PoisonCommand) leaves the site ACTIVE and
  // credentialsRotatedAt as it was: without this, every reconcile would issue it again.
  it.each([
    ['FAILED in this run: not again before the next run', 'FAILED', '2026-11-29T03:00:05Z', 'none'],
    ['REJECTED in this run: not again before the next run', 'REJECTED', '2026-11-29T03:00:05Z', 'none'],
    ['FAILED in the previous run: this run tries again', 'FAILED', '2026-11-28T03:00:05Z', 'issue'],
  ] as const)('the latest rotation %s', (_, state, issuedAt, expected) => {
    const observed = rotating('0 3 * * *', '2026-11-29T04:00:00Z', '2026-11-27T03:00:10Z');
    const action = planSite({ ...observed, latestCommand: { name: 'shop-2', operation: 'RotateCredentials', state, fence: 1, generation: 1, destructive: false, reason: 'PoisonCommand', issuedAt } });
    if (expected === 'none') expect(action.type).toBe('none');
    else expect(action).toMatchObject({ type: 'issue', operation: 'RotateCredentials' });
  });

  it('a pending spec change is deployed first', () => {
    const observed = rotating('0 3 * * *', '2026-11-29T04:00:00Z');
    const changed = { ...observed, site: { ...observed.site, metadata: { ...observed.site.metadata, generation: 2 } } };
    expect(planSite(changed)).toMatchObject({ type: 'issue', operation: 'DeploySite' });
  });

  it.each([
    ['no schedule', undefined, '2026-11-29T04:00:00Z', undefined],
    ['later today', '0 3 * * *', '2026-11-29T02:00:00Z', '2026-11-29T03:00:00.000Z'],
    ['just ran: the next one', '0 3 * * *', '2026-11-29T03:00:00Z', '2026-11-30T03:00:00.000Z'],
    ['a macro', '@weekly', '2026-11-29T04:00:00Z', '2026-12-06T00:00:00.000Z'],
  ] as const)('the next scheduled run (%s)', (_, schedule, now, expected) => {
    expect(nextScheduledRun(rotating(schedule, now).site, new Date(now))?.toISOString()).toBe(expected);
  });
});
