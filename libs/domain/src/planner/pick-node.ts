import { findCondition } from '../conditions.js';
import type { NodeSpec, NodeStatus } from '../node.js';
import { cpuToPercent, memoryToMebibytes } from '../quantities.js';
import type { Resource } from '../resource.js';
import type { SiteSpec } from '../site.js';

/** A quantity of node resources: CPU in percent of one core (a 4-core node has 400), memory in MiB. */
export interface Resources {
  cpuPercent: number;
  memoryMi: number;
}

/** A site bound to a node (status.nodeName), deleting ones included: what it requests, and who it is for spreading. */
export interface BoundSite {
  name: string;
  /** spec.source.clone.site: the site it is a copy of. */
  cloneOf?: string;
  requests: Resources;
}

/** What the site planner and the scheduler need to know about a node. */
export interface NodeView {
  name: string;
  /** The node's Ready condition is True. */
  ready: boolean;
  /** Cordoned: keeps its sites, takes no new ones. */
  unschedulable: boolean;
  /** One-minute load average. */
  load: number;
  /** metadata.labels with spec.labels over them (what spec.placement.nodeSelector matches). */
  labels: Readonly<Record<string, string>>;
  /** status.capacity as its agent reported it times the node's overcommit; undefined: not reported yet (unknown: every site fits). */
  capacity: Resources | undefined;
  sites: readonly BoundSite[];
}

/** What the scheduler places: a site without spec.nodeName. */
export interface PlacementRequest {
  name: string;
  cloneOf?: string;
  requests: Resources;
  /** spec.placement.nodeSelector: every label must be on the node with this value. */
  nodeSelector: Readonly<Record<string, string>>;
}

/** Why a node cannot take the site, in the order the filters run (a node counts under the first it fails). */
export const SKIP_REASONS = ['notReady', 'unschedulable', 'nodeSelector', 'capacity'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

const SKIP_WORDS: Record<SkipReason, (n: number) => string> = {
  notReady: (n) => `${n} not Ready`,
  unschedulable: (n) => `${n} unschedulable`,
  nodeSelector: (n) => `${n} ${n === 1 ? 'does' : 'do'} not match the node selector`,
  capacity: (n) => `${n} without capacity`,
};

export type Placement = { node: NodeView } | { node: undefined; message: string };

/** spec.resources as the scheduler counts them (the schema's defaults when a quantity does not parse). */
export function siteRequests(spec: Pick<SiteSpec, 'resources'>): Resources {
  return { cpuPercent: cpuToPercent(spec.resources.cpu) ?? 100, memoryMi: memoryToMebibytes(spec.resources.memory) ?? 512 };
}

export function placementRequest(name: string, spec: Pick<SiteSpec, 'resources' | 'source' | 'placement'>): PlacementRequest {
  const cloneOf = spec.source?.clone.site;
  return { name, requests: siteRequests(spec), nodeSelector: spec.placement?.nodeSelector ?? {}, ...(cloneOf ? { cloneOf } : {}) };
}

export function boundSite(name: string, spec: Pick<SiteSpec, 'resources' | 'source'>): BoundSite {
  const cloneOf = spec.source?.clone.site;
  return { name, requests: siteRequests(spec), ...(cloneOf ? { cloneOf } : {}) };
}

/**
 * The commitment of a node's reported capacity the scheduler allows by default: the sum of the
 * sites' CPU limits up to 10 times the node's cores, of their memory limits up to twice its memory.
 * A WordPress site idles almost always and its limits cap a burst (docs/adr/0033); a node states
 * other factors in spec.overcommit (1: never beyond what it has).
 */
export const DEFAULT_OVERCOMMIT = { cpu: 10, memory: 2 } as const;

/**
 * The scheduler's view of a Node. Its capacity is what the agent reported times spec.overcommit
 * (DEFAULT_OVERCOMMIT). Its labels are metadata.labels with spec.labels over them:
 * spec.labels is where the contract puts a node's scheduling labels (set with the node, kept by
 * its provisioning), metadata.labels is where Kubernetes users look first; a selector matching
 * either is what both expect, and the spec wins a conflict because it is the declared one.
 */
export function nodeView(node: Resource<Partial<Pick<NodeSpec, 'labels' | 'unschedulable' | 'overcommit'>>, NodeStatus>, sites: readonly BoundSite[]): NodeView {
  const capacity = node.status.capacity;
  const reportedMi = capacity ? memoryToMebibytes(capacity.memory) : undefined;
  const cpuFactor = node.spec.overcommit?.cpu ?? DEFAULT_OVERCOMMIT.cpu;
  const memoryFactor = node.spec.overcommit?.memory ?? DEFAULT_OVERCOMMIT.memory;
  return {
    name: node.metadata.name,
    ready: findCondition(node.status.conditions, 'Ready')?.status === 'True',
    unschedulable: node.spec.unschedulable === true,
    load: node.status.load ?? 0,
    labels: { ...node.metadata.labels, ...node.spec.labels },
    capacity: capacity && reportedMi !== undefined ? { cpuPercent: Math.floor(capacity.cpu * 100 * cpuFactor), memoryMi: Math.floor(reportedMi * memoryFactor) } : undefined,
    sites,
  };
}

/** What the sites bound to a node request together. */
export function requested(node: Pick<NodeView, 'sites'>): Resources {
  let cpuPercent = 0;
  let memoryMi = 0;
  for (const site of node.sites) {
    cpuPercent += site.requests.cpuPercent;
    memoryMi += site.requests.memoryMi;
  }
  return { cpuPercent, memoryMi };
}

/**
 * The hard filters, as kube-scheduler's: Ready, not cordoned, every nodeSelector label present
 * with its value, and room for the site's requests beside those of the sites bound there (sites
 * pinned by spec.nodeName count too, though they were never refused). A node that has not
 * reported its capacity fits: refusing it would strand every site until its first report.
 */
export function skipReason(request: PlacementRequest, node: NodeView): SkipReason | undefined {
  if (!node.ready) return 'notReady';
  if (node.unschedulable) return 'unschedulable';
  for (const [label, value] of Object.entries(request.nodeSelector)) if (node.labels[label] !== value) return 'nodeSelector';
  if (node.capacity) {
    const used = requested(node);
    if (used.cpuPercent + request.requests.cpuPercent > node.capacity.cpuPercent) return 'capacity';
    if (used.memoryMi + request.requests.memoryMi > node.capacity.memoryMi) return 'capacity';
  }
  return undefined;
}

/**
 * The scheduler: of the nodes that pass every filter (skipReason), the best by, in order:
 * 1. spreading (soft): not hosting the site's clone source, nor (for a source) any of its clones,
 *    so a production site and its staging copy do not share a node when another node fits;
 * 2. the lowest load; 3. the most free memory (capacity minus requests; an unknown capacity
 * ranks after every known one: a node that declared room is the safer bet); 4. the fewest
 * sites; 5. the lexically smallest name, so the choice is deterministic (two passes over the
 * same world bind to the same node). None fits: why each node was skipped, in aggregate.
 */
export function pickNode(request: PlacementRequest, nodes: readonly NodeView[]): Placement {
  const skipped = new Map<SkipReason, number>(SKIP_REASONS.map((reason) => [reason, 0]));
  let best: Scored | undefined;
  for (const node of nodes) {
    const reason = skipReason(request, node);
    if (reason) {
      skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      continue;
    }
    const scored = score(request, node);
    if (best === undefined || better(scored, best)) best = scored;
  }
  if (best) return { node: best.node };
  const counts = SKIP_REASONS.map((reason) => SKIP_WORDS[reason](skipped.get(reason) ?? 0));
  return { node: undefined, message: `0/${nodes.length} nodes are available: ${counts.join(', ')}` };
}

interface Scored {
  node: NodeView;
  relative: boolean;
  freeMemoryMi: number;
}

function score(request: PlacementRequest, node: NodeView): Scored {
  const relative = node.sites.some((site) => site.name === request.cloneOf || site.cloneOf === request.name);
  const freeMemoryMi = node.capacity ? node.capacity.memoryMi - requested(node).memoryMi : -Infinity;
  return { node, relative, freeMemoryMi };
}

function better(a: Scored, b: Scored): boolean {
  if (a.relative !== b.relative) return !a.relative;
  if (a.node.load !== b.node.load) return a.node.load < b.node.load;
  if (a.freeMemoryMi !== b.freeMemoryMi) return a.freeMemoryMi > b.freeMemoryMi;
  if (a.node.sites.length !== b.node.sites.length) return a.node.sites.length < b.node.sites.length;
  return a.node.name < b.node.name;
}
