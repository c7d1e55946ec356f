/** What the site planner and the scheduler need to know about a node. */
export interface NodeView {
  name: string;
  /** The node's Ready condition is True. */
  ready: boolean;
  /** Cordoned: keeps its sites, takes no new ones. */
  unschedulable: boolean;
  /** One-minute load average. */
  load: number;
  /** Sites bound to the node. */
  sites: number;
}

/**
 * The scheduler: a Ready, schedulable node with the lowest load; ties go to the node with fewer
 * sites, then to the lexically smallest name, so the choice is deterministic (two passes over the
 * same world bind to the same node).
 */
export function pickNode(nodes: readonly NodeView[]): NodeView | undefined {
  let best: NodeView | undefined;
  for (const node of nodes) {
    if (!node.ready || node.unschedulable) continue;
    if (best === undefined || better(node, best)) best = node;
  }
  return best;
}

function better(a: NodeView, b: NodeView): boolean {
  if (a.load !== b.load) return a.load < b.load;
  if (a.sites !== b.sites) return a.sites < b.sites;
  return a.name < b.name;
}
