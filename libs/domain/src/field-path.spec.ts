import { describe, expect, it } from 'vitest';
import { formatPath } from './field-path.js';

describe('formatPath', () => {
  it.each([
    [[], ''],
    [['spec'], 'spec'],
    [['spec', 'domains', 0], 'spec.domains[0]'],
    [['spec', 'wordpress', 'adminEmail'], 'spec.wordpress.adminEmail'],
    [['metadata', 'labels', 'team'], 'metadata.labels.team'],
    [['metadata', 'labels', 'app.kubernetes.io/name'], 'metadata.labels[app.kubernetes.io/name]'],
    [['metadata', 'labels', ''], 'metadata.labels[]'],
    [['status', 'conditions', 1, 'type'], 'status.conditions[1].type'],
    [[0, 'op'], '[0].op'],
    [['patch', 2, 'path'], 'patch[2].path'],
    [['spec', 'with-dash_and_9'], 'spec.with-dash_and_9'],
    [['spec', '9lives'], 'spec[9lives]'],
    [['spec', 'a b'], 'spec[a b]'],
    [['spec', 'x'.repeat(64)], `spec.${'x'.repeat(64)}`],
    [['spec', 'x'.repeat(65)], `spec[${'x'.repeat(64)}...]`],
    [['spec', `a.${'x'.repeat(100)}`], `spec[a.${'x'.repeat(62)}...]`],
  ])('%j -> %j', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});
