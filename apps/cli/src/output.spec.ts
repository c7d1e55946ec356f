import { describe, expect, it } from 'vitest';
import { describeSite } from './describe.js';
import { age, changed, joinTokensTable, render, table, tokensTable } from './output.js';

const NOW = new Date('2026-12-07T12:00:00Z');

describe('output formats', () => {
  it.each([
    ['json', '{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}\n'],
    ['yaml', 'a: 1\nb:\n  - x\n'],
    ['table', 'human\n'],
  ] as const)('%s', (format, expected) => {
    expect(render({ a: 1, b: ['x'] }, format, () => 'human\n')).toBe(expected);
  });

  it('pads columns to the widest cell, the last unpadded', () => {
    expect(table(['NAME', 'STATE'], [['shop-1', 'SUCCEEDED'], ['a', '']])).toBe('NAME    STATE\nshop-1  SUCCEEDED\na\n');
  });

  it.each([
    ['2026-12-07T11:59:15Z', '45s'],
    ['2026-12-07T11:48:00Z', '12m'],
    ['2026-12-07T07:00:00Z', '5h'],
    ['2026-12-04T12:00:00Z', '3d'],
    [undefined, '<unknown>'],
    ['garbage', '<unknown>'],
  ])('age of %s is %s', (timestamp, expected) => {
    expect(age(timestamp, NOW)).toBe(expected);
  });

  it('says what a write did', () => {
    expect(changed('Backup', 'shop-1', 'created')).toBe('backup/shop-1 created\n');
  });

  it('lists tokens and join tokens without their secrets', () => {
    const token = { id: '0f', subject: 'ci', role: 'viewer', createdAt: '2026-12-07T11:00:00Z', createdBy: 'admin' };
    expect(tokensTable([token, { ...token, id: '1a', revokedAt: '2026-12-07T11:30:00Z' }], NOW)).toBe(
      'ID  SUBJECT  ROLE    CREATED BY  AGE  REVOKED\n0f  ci       viewer  admin       60m  -\n1a  ci       viewer  admin       60m  30m\n',
    );
    expect(joinTokensTable([{ id: '2b', node: 'web-1', state: 'Pending', createdAt: '2026-12-07T11:59:00Z', createdBy: 'admin', expiresAt: '2026-12-07T12:59:00Z' }], NOW)).toBe(
      'ID  NODE   STATE    CREATED BY  AGE  EXPIRES\n2b  web-1  Pending  admin       60s  2026-12-07T12:59:00Z\n',
    );
  });
});

describe('describe site', () => {
  const site = {
    metadata: { name: 'shop', creationTimestamp: '2026-12-07T10:00:00Z' },
    spec: { environment: 'production', domains: ['shop.example.test', 'www.shop.example.test'], nodeName: 'local' },
    status: {
      phase: 'ACTIVE',
      nodeName: 'local',
      url: 'http://shop.example.test',
      currentRelease: '20261207T110000Z',
      releases: ['20261207T110000Z', '20261207T100000Z'],
      conditions: [{ type: 'Ready', status: 'True', reason: 'Serving', message: 'answers 200', lastTransitionTime: '2026-12-07T11:00:00Z' }],
    },
  };
  const command = (fence: number, state: string) => ({
    metadata: { name: `shop-${fence}`, creationTimestamp: '2026-12-07T11:00:00Z' },
    spec: { fence, operation: fence === 1 ? 'ProvisionSite' : 'DeploySite' },
    status: { state },
  });
  const event = { metadata: { name: 'e1' }, type: 'Normal', reason: 'CommandSucceeded', message: 'shop-2 succeeded', lastTimestamp: '2026-12-07T11:58:00Z', count: 2 };

  it('shows conditions, releases (the current marked), commands newest first and events on one screen', () => {
    expect(describeSite(site, [event], [command(1, 'SUCCEEDED'), command(2, 'SUCCEEDED')], NOW)).toBe(
      [
        'Name:         shop',
        'Environment:  production',
        'Phase:        ACTIVE',
        'Node:         local',
        'Domains:      shop.example.test, www.shop.example.test',
        'URL:          http://shop.example.test',
        'Created:      2026-12-07T10:00:00Z (2h ago)',
        '',
        'Conditions:',
        '  TYPE   STATUS  REASON   AGE  MESSAGE',
        '  Ready  True    Serving  60m  answers 200',
        'Releases:',
        '  * 20261207T110000Z (current)',
        '    20261207T100000Z',
        'Commands (newest 10):',
        '  NAME    OPERATION      STATE      AGE  MESSAGE',
        '  shop-2  DeploySite     SUCCEEDED  60m',
        '  shop-1  ProvisionSite  SUCCEEDED  60m',
        'Events (newest 10):',
        '  TYPE    REASON            AGE  COUNT  MESSAGE',
        '  Normal  CommandSucceeded  2m   2      shop-2 succeeded',
        '',
      ].join('\n'),
    );
  });

  it('says <none> where a new site has nothing yet', () => {
    const text = describeSite({ metadata: { name: 'new' }, spec: {}, status: {} }, [], [], NOW);
    expect(text).toContain('Phase:        <none>');
    expect(text).toContain('URL:          <none>');
    expect(text).toContain('Node:         <unscheduled>');
    expect(text.match(/<none>/g)).toHaveLength(6);
  });
});
