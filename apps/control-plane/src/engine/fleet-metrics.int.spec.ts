import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nextCronRun } from '@pressluft/domain';
import { api, TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { pgQuery } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest } from '../../test/resource-api.js';

/** One sample line of the Prometheus text format: name, labels in a fixed order, value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return out;
}
const key = (name: string, labels: Record<string, string> = {}): string => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;

/** Every pressluft_ metric name the alert rules and the dashboard query. */
function queriedMetrics(): string[] {
  const root = resolve(__dirname, '../../../..');
  const alerts = parseYaml(readFileSync(resolve(root, 'ops/prometheus/alerts.yaml'), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
  const dashboard = JSON.parse(readFileSync(resolve(root, 'ops/grafana/pressluft.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  const exprs = [...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
  return [...new Set(exprs.flatMap((expr) => expr.match(/\bpressluft_[a-z0-9_]+/g) ?? []))].sort();
}

/**
 * The fleet gauges on a real control plane (engine, PostgreSQL, NATS, a test agent as node-a),
 * read through GET /metrics after known changes of state; and every metric the on-call files
 * query exists there.
 */
describe('GET /metrics: the fleet as the state store has it', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent | undefined;
  const { call, get, create, phaseOf } = resourceApi(() => fx);
  const scrape = async (): Promise<Map<string, number>> => {
    const response = await api(fx.plane.httpUrl, '/metrics');
    expect(response.status).toBe(200);
    return samples(response.text);
  };
  const backup = (name: string, site: string) => ({ apiVersion: 'pressluft.io/v1', kind: 'Backup', metadata: { name }, spec: { site } });

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '2000', PRESSLUFT_RESYNC_MS: '5000' } });
    await create('nodes', { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { provider: 'static' } });
    agent = await TestAgent.start(inject('services').nats.url, 'node-a', { heartbeatMs: 300 });
    await until('node-a Ready', async () => ((await get('nodes', 'node-a'))?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('counts sites by phase, failed, drifted and stalled ones, backups, and the node Ready; every metric the alerts and the dashboard query is there', async () => {
    if (!agent) throw new Error('no agent');
    const empty = await scrape();
    expect(empty.get(key('pressluft_fleet_metrics_up'))).toBe(1);
    expect(empty.get(key('pressluft_node_ready', { node: 'node-a' }))).toBe(1);
    expect(empty.get(key('pressluft_sites', { phase: 'ACTIVE' }))).toBe(0);
    expect(empty.get(key('pressluft_leader_epoch'))).toBe(1);

    // m-ok: ACTIVE with one successful and then one failed backup.
    await create('sites', siteManifest('m-ok'));
    await phaseOf('sites', 'm-ok', 'ACTIVE');
    await create('backups', backup('m-ok-1', 'm-ok'));
    const succeeded = await phaseOf('backups', 'm-ok-1', 'SUCCEEDED');
    agent.behaviour = 'fail';
    await create('backups', backup('m-ok-2', 'm-ok'));
    await phaseOf('backups', 'm-ok-2', 'FAILED');
    // m-bad: its provisioning fails.
    await create('sites', siteManifest('m-bad'));
    await phaseOf('sites', 'm-bad', 'FAILED');
    // m-hang: its provisioning goes silent past the stall window.
    agent.behaviour = 'hang';
    await create('sites', siteManifest('m-hang'));
    const stalled = await until('m-hang command STALLED', async () => {
      const list = await call<{ items: Array<{ metadata: { name: string }; spec: { operation: string }; status: { state: string } }> }>(`${V1}/commands?site=m-hang`);
      return list.body.items.find((c) => c.status.state === 'STALLED');
    });
    // Drift comes from the node's fingerprints (drift specs cover that); here only its read: the condition set in the row.
    await pgQuery(
      fx.database.url,
      `UPDATE resources SET status = jsonb_set(status, '{conditions}', (status -> 'conditions') || '[{"type":"Drifted","status":"True","reason":"DriftDetected","message":"nginx server block differs","lastTransitionTime":"2026-12-07T00:00:00Z"}]'::jsonb)
        WHERE kind = 'Site' AND name = 'm-ok'`,
    );

    const now = await scrape();
    const completed = new Date(String(succeeded.status['completedAt']));
    expect(Object.fromEntries(['PENDING', 'PROVISIONING', 'ACTIVE', 'FAILED', 'DELETING'].map((phase) => [phase, now.get(key('pressluft_sites', { phase }))]))).toEqual({ PENDING: 0, PROVISIONING: 1, ACTIVE: 1, FAILED: 1, DELETING: 0 });
    expect(now.get(key('pressluft_site_failed', { site: 'm-bad', node: 'node-a' }))).toBe(1);
    expect(now.get(key('pressluft_site_failed', { site: 'm-ok', node: 'node-a' }))).toBeUndefined();
    expect(now.get(key('pressluft_site_drifted', { site: 'm-ok', node: 'node-a' }))).toBe(1);
    expect(now.get(key('pressluft_commands', { state: 'STALLED' }))).toBe(1);
    expect(now.get(key('pressluft_command_stalled', { command: stalled.metadata.name, site: 'm-hang', node: 'node-a', operation: stalled.spec.operation }))).toBe(1);
    expect(now.get(key('pressluft_backups', { phase: 'SUCCEEDED' }))).toBe(1);
    expect(now.get(key('pressluft_backups', { phase: 'FAILED' }))).toBe(1);
    expect(now.get(key('pressluft_backup_failed', { site: 'm-ok' }))).toBe(1);
    expect(now.get(key('pressluft_backup_last_success_timestamp_seconds', { site: 'm-ok' }))).toBeCloseTo(completed.getTime() / 1000, 3);
    expect(now.get(key('pressluft_backup_due_timestamp_seconds', { site: 'm-ok' }))).toBe((nextCronRun('0 3 * * *', completed)?.getTime() ?? 0) / 1000);
    expect(now.get(key('pressluft_backup_due_timestamp_seconds', { site: 'm-bad' }))).toBeGreaterThan(0);
    expect(now.get(key('pressluft_outbox_unsent'))).toBe(0);

    const names = new Set([...now.keys()].map((k) => k.slice(0, k.indexOf('{'))));
    expect(queriedMetrics().length).toBeGreaterThan(15);
    expect(queriedMetrics().filter((metric) => !names.has(metric))).toEqual([]);

    // The operator abandons the stalled command: its series goes; the agent stops: the node is not Ready.
    expect((await call(`${V1}/commands/${stalled.metadata.name}/abandon`, { method: 'POST' })).status).toBe(200);
    const abandoned = await scrape();
    expect(abandoned.get(key('pressluft_commands', { state: 'STALLED' }))).toBe(0);
    expect([...abandoned.keys()].filter((k) => k.startsWith('pressluft_command_stalled{'))).toEqual([]);
    await agent.stop();
    agent = undefined;
    await until('node-a not Ready on /metrics', async () => ((await scrape()).get(key('pressluft_node_ready', { node: 'node-a' })) === 0 ? true : undefined));
  });
});
