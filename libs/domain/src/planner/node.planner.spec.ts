import { describe, expect, it } from 'vitest';
import { type Condition } from '../conditions.js';
import { nodeSpecSchema, nodeStatusSchema, type NodeSpec, type NodeStatus } from '../node.js';
import { type Resource } from '../resource.js';
import { heartbeatStaleInMs, planNode } from './node.planner.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const TIMEOUT = 60_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function node(lastHeartbeat: string | undefined, ready?: Pick<Condition, 'status' | 'reason'>): Resource<NodeSpec, NodeStatus> {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: 'Node',
    metadata: {
      name: 'node-a',
      uid: '6f1c2a8e-0000-4000-8000-000000000002',
      generation: 1,
      resourceVersion: '1',
      labels: {},
      annotations: {},
      finalizers: [],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: nodeSpecSchema.parse({ provider: 'static' }),
    status: nodeStatusSchema.parse({
      ...(lastHeartbeat ? { lastHeartbeat } : {}),
      conditions: ready ? [{ type: 'Ready', message: 'x', lastTransitionTime: ago(3_600_000), ...ready }] : [],
    }),
  };
}

describe('planNode', () => {
  it.each<[string, string | undefined, Pick<Condition, 'status' | 'reason'> | undefined, object]>([
    ['a fresh heartbeat makes a new node Ready', ago(5_000), undefined, { type: 'setReady', status: 'True', reason: 'HeartbeatReceived' }],
    ['a heartbeat exactly at the timeout is still fresh', ago(TIMEOUT), undefined, { type: 'setReady', status: 'True' }],
    ['a heartbeat from the future (clock skew) is fresh', new Date(NOW.getTime() + 2_000).toISOString(), undefined, { type: 'setReady', status: 'True' }],
    ['a fresh heartbeat brings a NotReady node back', ago(1_000), { status: 'False', reason: 'HeartbeatTimeout' }, { type: 'setReady', status: 'True' }],
    ['an old heartbeat makes a Ready node NotReady', ago(TIMEOUT + 1), { status: 'True', reason: 'HeartbeatReceived' }, { type: 'setReady', status: 'False', reason: 'HeartbeatTimeout' }],
    ['an old heartbeat on a new node is NotReady', ago(3_600_000), undefined, { type: 'setReady', status: 'False', reason: 'HeartbeatTimeout' }],
    ['no heartbeat ever is Unknown', undefined, undefined, { type: 'setReady', status: 'Unknown', reason: 'NoHeartbeat' }],
    ['no heartbeat ever replaces a stale Ready', undefined, { status: 'True', reason: 'HeartbeatReceived' }, { type: 'setReady', status: 'Unknown' }],
    ['nothing to do when Ready already says True', ago(1_000), { status: 'True', reason: 'HeartbeatReceived' }, { type: 'none' }],
    ['nothing to do when Ready already says HeartbeatTimeout', ago(TIMEOUT * 10), { status: 'False', reason: 'HeartbeatTimeout' }, { type: 'none' }],
    ['nothing to do when Ready already says NoHeartbeat', undefined, { status: 'Unknown', reason: 'NoHeartbeat' }, { type: 'none' }],
    ['a False condition with another reason is rewritten', ago(TIMEOUT * 2), { status: 'False', reason: 'Cordoned' }, { type: 'setReady', status: 'False', reason: 'HeartbeatTimeout' }],
  ])('%s', (_name, heartbeat, ready, expected) => {
    expect(planNode({ node: node(heartbeat, ready), now: NOW, heartbeatTimeoutMs: TIMEOUT })).toMatchObject(expected);
  });

  it('says in the message how long the node has been silent', () => {
    const action = planNode({ node: node(ago(95_000)), now: NOW, heartbeatTimeoutMs: TIMEOUT });
    expect(action).toMatchObject({ message: expect.stringMatching(/^Node node-a: no heartbeat for 95s \(timeout 60s\)/) });
  });
});

describe('heartbeatStaleInMs', () => {
  it.each([
    ['never reported', undefined, undefined],
    ['just now', ago(0), TIMEOUT + 1],
    ['half the timeout ago', ago(TIMEOUT / 2), TIMEOUT / 2 + 1],
    ['exactly the timeout ago (still fresh)', ago(TIMEOUT), 1],
    ['older than the timeout', ago(TIMEOUT + 1), undefined],
    ['from the future (clock skew)', ago(-5_000), TIMEOUT + 5_001],
    ['not a timestamp', 'yesterday', undefined],
  ] as const)('%s', (_, lastHeartbeat, expected) => {
    expect(heartbeatStaleInMs(lastHeartbeat, NOW, TIMEOUT)).toBe(expected);
  });

  it('is when planNode turns the node False', () => {
    const last = ago(TIMEOUT / 3);
    const staleIn = heartbeatStaleInMs(last, NOW, TIMEOUT) ?? 0;
    const at = (ms: number) => planNode({ node: node(last, { status: 'True', reason: 'HeartbeatReceived' }), now: new Date(NOW.getTime() + ms), heartbeatTimeoutMs: TIMEOUT });
    expect(at(staleIn - 1)).toEqual({ type: 'none' });
    expect(at(staleIn)).toMatchObject({ type: 'setReady', status: 'False', reason: 'HeartbeatTimeout' });
  });
});
