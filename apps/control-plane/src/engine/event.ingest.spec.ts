import type { Condition } from '@pressluft/domain';
import type { CommandEvent } from '@pressluft/proto';
import { describe, expect, it } from 'vitest';
import { addressesOf, agentCommandEvent, driftCondition, releasesOf } from './event.ingest.js';

const drifted: Condition = { type: 'Drifted', status: 'True', reason: 'DriftDetected', message: 'nginx server block site_a.conf differs from its template', lastTransitionTime: '2026-11-29T00:00:00Z' };

describe('driftCondition', () => {
  it('sets Drifted=True with a summary when the node reports drift', () => {
    expect(driftCondition([], ['nginx server block site_a.conf differs from its template'])).toEqual({
      type: 'Drifted',
      status: 'True',
      reason: 'DriftDetected',
      message: 'nginx server block site_a.conf differs from its template',
    });
  });

  it('writes nothing when the condition already says so (no version churn)', () => {
    expect(driftCondition([drifted], ['nginx server block site_a.conf differs from its template'])).toBeUndefined();
    expect(driftCondition([], [])).toBeUndefined();
  });

  it('clears it when the drift is gone', () => {
    expect(driftCondition([drifted], [])).toMatchObject({ status: 'False', reason: 'NoDrift' });
  });

  it('keeps the summary short and printable', () => {
    const many = Array.from({ length: 14 }, (_, i) => `thing ${i}\u0007 differs`);
    const condition = driftCondition([], many);
    expect(condition?.message).toContain('(+4 more)');
    expect(condition?.message.includes(String.fromCharCode(7))).toBe(false);
  });
});

describe('addressesOf', () => {
  it.each<[string, string[], string[]]>([
    ['none', [], []],
    ['IPv4 and IPv6, sorted, each once', ['203.0.113.10', '2001:db8::10', '203.0.113.10'], ['2001:db8::10', '203.0.113.10']],
    ['not an address, or an IPv6 with a zone: left out', ['node.example.test', '203.0.113.300', 'fe80::1%eth0', '198.51.100.7'], ['198.51.100.7']],
  ])('%s', (_case, publicAddresses, expected) => {
    expect(addressesOf({ publicAddresses })).toEqual(expected);
  });

  it('keeps at most 16', () => {
    expect(addressesOf({ publicAddresses: Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 10}`) })).toHaveLength(16);
  });
});

describe('releasesOf', () => {
  it('takes well-formed release ids only', () => {
    expect(releasesOf({ currentRelease: '20261129T101500Z', releases: ['20261129T101500Z', '../../etc', '20261128T101500Z'] })).toEqual({
      currentRelease: '20261129T101500Z',
      releases: ['20261129T101500Z', '20261128T101500Z'],
    });
    expect(releasesOf({ currentRelease: 'latest', releases: [] })).toBeUndefined();
    expect(releasesOf(undefined)).toBeUndefined();
  });
});

const CERTIFICATE = { source: 'acme', domains: ['shop.example.test'], issuer: 'CN=Test CA', serialNumber: '0a', fingerprintSha256: 'ab'.repeat(32), notBefore: '2026-12-07T00:00:00Z', notAfter: '2027-03-07T00:00:00Z', ocspStapling: true };

describe('agentCommandEvent', () => {
  it.each<[string, CommandEvent['kind'], ReturnType<typeof agentCommandEvent>]>([
    ['accepted', { $case: 'accepted', value: {} }, { type: 'accepted', sequence: 7 }],
    ['progress', { $case: 'progress', value: { step: 'nginx', percent: 40, bytes: 0, files: 0 } }, { type: 'progress', sequence: 7, step: 'nginx', percent: 40, bytes: 0, files: 0 }],
    ['progress of a backup', { $case: 'progress', value: { step: 'files', percent: 40, bytes: 2048, files: 9 } }, { type: 'progress', sequence: 7, step: 'files', percent: 40, bytes: 2048, files: 9 }],
    ['log', { $case: 'log', value: { line: 'reloaded' } }, { type: 'log', sequence: 7, line: 'reloaded' }],
    ['heartbeat', { $case: 'heartbeat', value: {} }, { type: 'heartbeat', sequence: 7 }],
    ['succeeded', { $case: 'succeeded', value: { message: 'ok', site: undefined } }, { type: 'succeeded', sequence: 7, message: 'ok' }],
    [
      'succeeded with a backup result (the wire\'s empty strings absent)',
      { $case: 'succeeded', value: { message: 'ok', site: undefined, backup: { snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb', manifest: '' }, snapshotTime: '2026-12-07T03:00:00Z', bytesAdded: 1, bytesTotal: 2, files: 3, seconds: 0.5, wordpressVersion: '6.4.2', release: '', gitCommit: '' } } },
      {
        type: 'succeeded',
        sequence: 7,
        message: 'ok',
        backup: { snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb', manifest: undefined }, snapshotTime: '2026-12-07T03:00:00Z', bytesAdded: 1, bytesTotal: 2, files: 3, durationSeconds: 0.5, wordpressVersion: '6.4.2', release: undefined, gitCommit: undefined },
      },
    ],
    ['failed', { $case: 'failed', value: { reason: 'Boom', message: 'm', retryAfterSeconds: 0 } }, { type: 'failed', sequence: 7, reason: 'Boom', message: 'm' }],
    ['failed with a Retry-After', { $case: 'failed', value: { reason: 'AcmeRateLimited', message: 'm', retryAfterSeconds: 3600 } }, { type: 'failed', sequence: 7, reason: 'AcmeRateLimited', message: 'm', retryAfterSeconds: 3600 }],
    [
      'succeeded with a certificate (applyCommandEvent validates it)',
      { $case: 'succeeded', value: { message: 'ok', site: undefined, certificate: CERTIFICATE } },
      { type: 'succeeded', sequence: 7, message: 'ok', certificate: CERTIFICATE },
    ],
    ['rejected', { $case: 'rejected', value: { reason: 'StaleFence', message: 'm' } }, { type: 'rejected', sequence: 7, reason: 'StaleFence', message: 'm' }],
    ['a kind this version does not know', undefined, undefined],
  ])('%s', (_, kind, expected) => {
    expect(agentCommandEvent({ ref: undefined, sequence: 7, at: '', kind })).toEqual(expected);
  });
});
