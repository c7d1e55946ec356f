import { Inject, Injectable } from '@nestjs/common';
import { heartbeatStaleInMs, planNode, setCondition } from '@pressluft/domain';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, CONFIG, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { own, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';

/**
 * Node health: the Ready condition follows the agent's heartbeats (planNode decides). Silence
 * produces no change, so each pass asks to be requeued when the heartbeat turns stale, and at
 * least every third of the timeout (the heartbeat age metric).
 */
@Injectable()
export class NodeMonitor implements Reconciler {
  readonly kind = 'Node';
  readonly watches = [own('Node')];

  constructor(
    private readonly store: ResourceStore,
    private readonly leader: LeaderElection,
    private readonly metrics: Metrics,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const node = await this.store.get('Node', name);
    if (!node) {
      this.metrics.heartbeatAge.remove(name);
      return {};
    }
    const now = this.clock.now();
    const timeoutMs = this.config.engine.heartbeatTimeoutMs;
    const again = { requeueAfterMs: Math.min(Math.max(500, Math.floor(timeoutMs / 3)), heartbeatStaleInMs(node.status.lastHeartbeat, now, timeoutMs) ?? Infinity) };
    if (node.status.lastHeartbeat) this.metrics.heartbeatAge.set({ node: name }, (now.getTime() - Date.parse(node.status.lastHeartbeat)) / 1000);
    const action = planNode({ node, now, heartbeatTimeoutMs: this.config.engine.heartbeatTimeoutMs });
    if (action.type === 'none') return again;
    await this.leader.transaction(async (tx) => {
      const fresh = await tx.get('Node', name, { lock: true });
      if (!fresh || fresh.metadata.resourceVersion !== node.metadata.resourceVersion) return;
      const conditions = setCondition(fresh.status.conditions, { type: 'Ready', status: action.status, reason: action.reason, message: action.message }, now);
      const phase = action.status === 'True' ? 'READY' : action.status === 'False' ? 'NOT_READY' : fresh.status.phase;
      await tx.update(fresh, { ...writeOf(fresh), status: { ...fresh.status, phase, conditions } }, now);
      if (action.status !== 'True') await recordEvent(tx, fresh, 'Warning', action.reason, action.message, now);
    });
    return again;
  }
}
