import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

// The on-call files are read by Prometheus, Grafana and people at night: each must load, and each
// alert must lead to its runbook. That every metric they name is on a real control plane's /metrics
// is checked by apps/control-plane/src/engine/fleet-metrics.int.spec.ts.
const root = resolve(__dirname, '../..');
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (parseYaml(read('ops/prometheus/alerts.yaml')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const rules = groups.flatMap((group) => group.rules);

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
  gridPos?: { x: number; y: number; w: number; h: number };
}
const dashboard = JSON.parse(read('ops/grafana/pressluft.json')) as { uid: string; title: string; panels: Panel[]; templating: { list: Array<{ name: string }> } };

/** GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces to -. */
const anchors = new Set(
  read('docs/runbooks.md')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-')),
);

/** promtool from Debian's prometheus package (tools/dev test installs it); PROMTOOL points elsewhere. */
const promtool = [process.env['PROMTOOL'], '/usr/bin/promtool'].find((path): path is string => !!path && existsSync(path));

describe('ops/prometheus/alerts.yaml', () => {
  it('has the alerts on-call needs, each once', () => {
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'PressluftNodeNotReady',
        'PressluftCommandStalled',
        'PressluftSiteFailed',
        'PressluftSiteDrifted',
        'PressluftBackupOverdue',
        'PressluftBackupFailed',
        'PressluftOutboxLag',
        'PressluftLeaderFlapping',
      ]),
    );
  });

  it.each(rules.map((rule) => [rule.alert ?? '(no name)', rule] as const))('%s has an expression on pressluft_ metrics, a severity, a summary, a description and a runbook_url whose anchor exists', (name, rule) => {
    expect(name).toMatch(/^Pressluft[A-Z][A-Za-z]+$/);
    expect(rule.expr).toMatch(/\bpressluft_[a-z_]+/);
    expect(['critical', 'warning']).toContain(rule.labels?.['severity']);
    expect(rule.annotations?.['summary']).toMatch(/\S/);
    expect(rule.annotations?.['description']).toMatch(/\S/);
    expect(rule.annotations?.['runbook_url']).toBe(`docs/runbooks.md#${name.toLowerCase()}`);
    expect(anchors).toContain(name.toLowerCase());
  });

  it('every runbook entry belongs to an alert', () => {
    const alerts = new Set(rules.map((rule) => rule.alert?.toLowerCase()));
    const entries = [...anchors].filter((anchor) => anchor.startsWith('pressluft'));
    expect(entries.filter((entry) => !alerts.has(entry))).toEqual([]);
  });

  it('passes promtool check rules and the rule unit tests (ops/prometheus/alerts.test.yaml)', () => {
    if (!promtool) throw new Error("promtool not found: install Debian's prometheus package (tools/dev test does) or set PROMTOOL");
    const check = execFileSync(promtool, ['check', 'rules', 'ops/prometheus/alerts.yaml'], { cwd: root, encoding: 'utf8' });
    expect(check).toContain(`SUCCESS: ${rules.length} rules found`);
    const tests = execFileSync(promtool, ['test', 'rules', 'ops/prometheus/alerts.test.yaml'], { cwd: root, encoding: 'utf8' });
    expect(tests).toContain('SUCCESS');
  });
});

describe('ops/grafana/pressluft.json', () => {
  it('has a uid, unique panel ids and titles, and a Prometheus data source variable every target uses', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = dashboard.panels.map((panel) => panel.title);
    expect(new Set(titles).size).toBe(titles.length);
    expect(dashboard.templating.list.map((variable) => variable.name)).toContain('datasource');
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
        expect(target.expr, panel.title).toMatch(/\bpressluft_[a-z_]+/);
      }
    }
  });

  it('lays out panels on the 24-column grid without overlap', () => {
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos ?? { x: -1, y: -1, w: 0, h: 0 };
      expect(x >= 0 && w > 0 && x + w <= 24 && h > 0, panel.title).toBe(true);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          const key = `${col},${row}`;
          expect(cells.get(key), `${panel.title} overlaps`).toBeUndefined();
          cells.set(key, panel.title);
        }
      }
    }
  });

  it('shows each thing the fleet overview promises', () => {
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)).join('\n');
    for (const metric of ['pressluft_node_ready', 'pressluft_sites', 'pressluft_commands', 'pressluft_reconciles_total', 'pressluft_reconcile_duration_seconds_bucket', 'pressluft_outbox_oldest_unsent_seconds', 'pressluft_backups', 'pressluft_leader_epoch']) {
      expect(exprs).toMatch(new RegExp(`\\b${metric}\\b`));
    }
  });
});
