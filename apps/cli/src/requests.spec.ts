import { describe, expect, it } from 'vitest';
import type { ApiObject } from './api-client.js';
import {
  backupCall,
  cloneCall,
  contentSyncCall,
  joinTokenCreateCall,
  parseDuration,
  parseLogsTarget,
  parseWaitFor,
  parseWaitTarget,
  promotionCall,
  restoreCall,
  revokeCall,
  rollbackCall,
  runName,
  tokenCreateCall,
} from './requests.js';

const NOW = new Date('2026-12-07T12:50:01.123Z');
const V1 = '/apis/pressluft.io/v1';
const meta = (name: string) => ({ apiVersion: 'pressluft.io/v1', metadata: { name } });

describe('arguments to API requests', () => {
  it.each([
    ['backup, named by site and time', backupCall('shop', undefined, NOW), { method: 'POST', path: `${V1}/backups`, body: { ...meta('shop-20261207125001'), kind: 'Backup', spec: { site: 'shop', reason: 'manual' } } }],
    ['backup, named', backupCall('shop', 'before-upgrade', NOW), { method: 'POST', path: `${V1}/backups`, body: { ...meta('before-upgrade'), kind: 'Backup', spec: { site: 'shop', reason: 'manual' } } }],
    ['restore into its own site', restoreCall('b1', undefined, undefined, NOW), { method: 'POST', path: `${V1}/restores`, body: { ...meta('b1-restore-20261207125001'), kind: 'Restore', spec: { backup: 'b1' } } }],
    ['restore into another site', restoreCall('b1', 'copy', 'r1', NOW), { method: 'POST', path: `${V1}/restores`, body: { ...meta('r1'), kind: 'Restore', spec: { backup: 'b1', site: 'copy' } } }],
    ['content sync, default parts', contentSyncCall('shop', 'stg', undefined, undefined, NOW), { method: 'POST', path: `${V1}/contentsyncs`, body: { ...meta('stg-sync-20261207125001'), kind: 'ContentSync', spec: { from: 'shop', to: 'stg' } } }],
    ['content sync, database only', contentSyncCall('shop', 'stg', ['database'], 'cs', NOW), { method: 'POST', path: `${V1}/contentsyncs`, body: { ...meta('cs'), kind: 'ContentSync', spec: { from: 'shop', to: 'stg', parts: ['database'] } } }],
    ['promotion', promotionCall('stg', 'shop', false, undefined, NOW), { method: 'POST', path: `${V1}/promotions`, body: { ...meta('shop-promote-20261207125001'), kind: 'Promotion', spec: { from: 'stg', to: 'shop' } } }],
    ['promotion acknowledging drift', promotionCall('stg', 'shop', true, 'p', NOW), { method: 'POST', path: `${V1}/promotions`, body: { ...meta('p'), kind: 'Promotion', spec: { from: 'stg', to: 'shop', acknowledgeDrift: true } } }],
    ['rollback to the previous release', rollbackCall('shop', undefined), { method: 'POST', path: `${V1}/sites/shop/rollback` }],
    ['rollback to one release', rollbackCall('shop', '20261124T101500Z'), { method: 'POST', path: `${V1}/sites/shop/rollback`, body: { release: '20261124T101500Z' } }],
    ['token', tokenCreateCall('ci', 'viewer'), { method: 'POST', path: '/auth/v1/tokens', body: { subject: 'ci', role: 'viewer' } }],
    ['join token with the default ttl', joinTokenCreateCall('web-1', undefined), { method: 'POST', path: '/auth/v1/jointokens', body: { node: 'web-1' } }],
    ['join token for 10 minutes', joinTokenCreateCall('web-1', 600), { method: 'POST', path: '/auth/v1/jointokens', body: { node: 'web-1', ttlSeconds: 600 } }],
    ['token revoke', revokeCall('tokens', 'ab/c'), { method: 'DELETE', path: '/auth/v1/tokens/ab%2Fc' }],
  ])('%s', (_name, call, expected) => {
    expect(call).toEqual(expected);
  });

  it('a clone keeps how the source runs, takes its own domains, environment and source, and never its TLS, backups or cache', () => {
    const source: ApiObject = {
      metadata: { name: 'shop', labels: { team: 'web' } },
      spec: {
        environment: 'production',
        domains: ['shop.example.test'],
        nodeName: 'local',
        wordpress: { version: '6.1', title: 'Shop' },
        php: { maxChildren: 5 },
        tls: { mode: 'acme' },
        backup: { schedule: '0 3 * * *' },
        cache: { page: { enabled: true } },
      },
    };
    expect(cloneCall(source, 'shop-stg', { domains: ['stg.example.test'], environment: 'staging' })).toEqual({
      method: 'POST',
      path: `${V1}/sites`,
      body: {
        apiVersion: 'pressluft.io/v1',
        kind: 'Site',
        metadata: { name: 'shop-stg', labels: { team: 'web' } },
        spec: { environment: 'staging', domains: ['stg.example.test'], source: { clone: { site: 'shop' } }, nodeName: 'local', wordpress: { version: '6.1', title: 'Shop' }, php: { maxChildren: 5 } },
      },
    });
    expect(cloneCall(source, 'c', { domains: ['c.test'], environment: 'staging', node: 'web-2' }).body?.['spec']).toMatchObject({ nodeName: 'web-2' });
  });

  it.each([
    ['shop', NOW, 'shop-20261207125001'],
    ['a-very-long-site-name-of-forty-chars-xy', NOW, 'a-very-long-site-name-of-20261207125001'],
    ['abcdefghijklmnopqrstuvwxy-', NOW, 'abcdefghijklmnopqrstuvwxy-20261207125001'],
  ])('runName(%s) fits a name', (base, now, expected) => {
    const name = runName(base, now);
    expect(name).toBe(expected);
    expect(name).toMatch(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/);
  });
});

describe('parsing targets, conditions and durations', () => {
  it.each([
    ['shop-3', { kind: 'command', name: 'shop-3' }],
    ['site/shop', { kind: 'site', name: 'shop' }],
    ['sites/shop', { kind: 'site', name: 'shop' }],
  ])('logs %s', (target, expected) => {
    expect(parseLogsTarget(target)).toEqual(expected);
  });

  it.each(['node/x', 'site/', 'site/Shop', 'site/a/b', ''])('logs %j is a usage error', (target) => {
    expect(() => parseLogsTarget(target)).toThrow(/neither a command name nor site/);
  });

  it.each([
    ['site/shop', { plural: 'sites', name: 'shop' }],
    ['node/local', { plural: 'nodes', name: 'local' }],
  ])('wait %s', (target, expected) => {
    expect(parseWaitTarget(target)).toEqual(expected);
  });

  it.each(['shop', 'backup/b', 'site/UP'])('wait %j is a usage error', (target) => {
    expect(() => parseWaitTarget(target)).toThrow(/must be site\/<name> or node\/<name>/);
  });

  it.each([
    ['condition=Ready', { type: 'Ready', status: 'True' }],
    ['condition=Drifted=false', { type: 'Drifted', status: 'False' }],
    ['condition=Ready=Unknown', { type: 'Ready', status: 'Unknown' }],
  ])('--for=%s', (value, expected) => {
    expect(parseWaitFor(value)).toEqual(expected);
  });

  it.each(['Ready', 'condition=', 'condition=Ready=maybe', 'delete'])('--for=%s is a usage error', (value) => {
    expect(() => parseWaitFor(value)).toThrow(/--for must be condition=/);
  });

  it.each([
    ['30', 30_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
  ])('duration %s', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  it.each(['', '5 m', '5x', 'm5', '1h-2m'])('duration %j is a usage error', (value) => {
    expect(() => parseDuration(value)).toThrow(/is not a duration/);
  });
});
