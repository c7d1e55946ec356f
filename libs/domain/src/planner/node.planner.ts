import { findCondition } from '../conditions.js';
import { type NodeSpec, type NodeStatus } from '../node.js';
import { type Resource } from '../resource.js';

export interface NodeObservation {
  node: Resource<NodeSpec, NodeStatus>;
  now: Date;
  heartbeatTimeoutMs: number;
}

export type NodeAction =
  | { type: 'none' }
  | { type: 'setReady'; status: 'True' | 'False' | 'Unknown'; reason: string; message: string };

/**
 * The node lifecycle controller: Ready follows the agent's heartbeat. True while the last heartbeat
 * is at most `heartbeatTimeoutMs` old (a heartbeat from the future, clock skew, counts as fresh),
 * False (HeartbeatTimeout) once it is older, Unknown (NoHeartbeat) when the agent never reported.
 *
 * 'none' when the condition already has that status and reason: the message carries the age and
 * would change on every pass, and rewriting status each pass would churn resourceVersion and wake
 * every watcher for nothing.
 */
export function planNode(observed: NodeObservation): NodeAction {
  const { node, now, heartbeatTimeoutMs } = observed;
  const name = node.metadata.name;
  const next = desiredReady(name, node.status.lastHeartbeat, now, heartbeatTimeoutMs);
  const current = findCondition(node.status.conditions, 'Ready');
  if (current && current.status === next.status && current.reason === next.reason) return { type: 'none' };
  return { type: 'setReady', ...next };
}

function desiredReady(
  name: string,
  lastHeartbeat: string | undefined,
  now: Date,
  timeoutMs: number,
): { status: 'True' | 'False' | 'Unknown'; reason: string; message: string } {
  const at = lastHeartbeat === undefined ? Number.NaN : Date.parse(lastHeartbeat);
  if (Number.isNaN(at)) {
    return { status: 'Unknown', reason: 'NoHeartbeat', message: `Node ${name}: the agent has not sent a heartbeat yet` };
  }
  const ageMs = now.getTime() - at;
  const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))}s`;
  if (ageMs > timeoutMs) {
    return {
      status: 'False',
      reason: 'HeartbeatTimeout',
      message: `Node ${name}: no heartbeat for ${seconds(ageMs)} (timeout ${seconds(timeoutMs)}), last at ${lastHeartbeat}`,
    };
  }
  return { status: 'True', reason: 'HeartbeatReceived', message: `Node ${name}: agent heartbeat ${seconds(ageMs)} ago` };
}

/**
 * How long until the node's heartbeat becomes too old (planNode then says False): silence
 * produces no change, so the node's reconciler asks to be looked at again by then. Undefined
 * without a heartbeat or when it is already too old.
 */
export function heartbeatStaleInMs(lastHeartbeat: string | undefined, now: Date, heartbeatTimeoutMs: number): number | undefined {
  const at = lastHeartbeat === undefined ? Number.NaN : Date.parse(lastHeartbeat);
  if (Number.isNaN(at)) return undefined;
  // planNode says False once the age is MORE than the timeout: one millisecond after this.
  const staleIn = at + heartbeatTimeoutMs + 1 - now.getTime();
  return staleIn > 0 ? staleIn : undefined;
}
