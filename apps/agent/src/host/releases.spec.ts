import { describe, expect, it } from 'vitest';
import { healthParams, reloadDone } from './health.js';
import { checkReleaseName, keepCount, nextReleaseName, previousRelease, releasesToPrune, sortReleases, versionSatisfies } from './releases.js';

const R = (n: number) => `2026112${Math.floor(n / 10)}T1${n % 10}0000Z`;

describe('release selection', () => {
  const all = [R(1), R(5), R(3), R(2), R(4), '.staging-x', 'junk'];

  it('sorts newest first and ignores what is no release', () => {
    expect(sortReleases(all)).toEqual([R(5), R(4), R(3), R(2), R(1)]);
  });

  it('finds the release before current', () => {
    expect(previousRelease(all, R(5))).toBe(R(4));
    expect(previousRelease(all, R(3))).toBe(R(2));
    expect(previousRelease(all, R(1))).toBeUndefined();
    expect(previousRelease(all, undefined)).toBeUndefined();
  });

  it('prunes all but the newest N, never current or the one before it', () => {
    expect(releasesToPrune(all, R(5), 2)).toEqual([R(3), R(2), R(1)]);
    expect(releasesToPrune(all, R(5), 5)).toEqual([]);
    // after a rollback current is older than the newest: it and its predecessor survive
    expect(releasesToPrune(all, R(2), 2)).toEqual([R(3)]);
  });

  it('defaults keep to 5 and never below 2', () => {
    expect(keepCount(0)).toBe(5);
    expect(keepCount(undefined)).toBe(5);
    expect(keepCount(1)).toBe(2);
    expect(keepCount(7)).toBe(7);
    expect(() => keepCount(1000)).toThrow(/keepReleases/);
  });

  it('names a new release after the newest existing one', () => {
    const now = new Date('2026-11-29T18:15:00.400Z');
    expect(nextReleaseName([], now)).toBe('20261129T181500Z');
    expect(nextReleaseName(['20261129T181500Z'], now)).toBe('20261129T181501Z');
    expect(nextReleaseName(['20261129T181500Z', '20261129T181501Z'], now)).toBe('20261129T181502Z');
    expect(nextReleaseName(['20261128T000000Z'], now)).toBe('20261129T181500Z');
  });

  it('validates release names', () => {
    expect(checkReleaseName('20261129T181500Z')).toBe('20261129T181500Z');
    for (const bad of ['../x', '20261129T181500Z/..', '', 'current']) expect(() => checkReleaseName(bad)).toThrow(/release/);
  });
});

describe('WordPress version', () => {
  it('matches the available core by prefix', () => {
    expect(versionSatisfies('6.1', '6.1.9')).toBe(true);
    expect(versionSatisfies('6.1.9', '6.1.9')).toBe(true);
    expect(versionSatisfies('', '6.1.9')).toBe(true);
    expect(versionSatisfies('6.4', '6.1.9')).toBe(false);
    expect(versionSatisfies('6.1.1', '6.1.10')).toBe(false);
    expect(versionSatisfies('6', '6.1.9')).toBe(true);
    expect(versionSatisfies('6.10', '6.1.9')).toBe(false);
  });
});

describe('healthParams', () => {
  it('points nginx-like parameters at the release', () => {
    const p = healthParams({ releaseDir: '/var/www/sites/a/releases/20261129T181500Z', domain: 'a.example.test', serverPort: 8081, https: false });
    expect(p).toMatchObject({
      SCRIPT_FILENAME: '/var/www/sites/a/releases/20261129T181500Z/index.php',
      DOCUMENT_ROOT: '/var/www/sites/a/releases/20261129T181500Z',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/',
      HTTP_HOST: 'a.example.test',
      SERVER_NAME: 'a.example.test',
      SERVER_PORT: '8081',
      REQUEST_SCHEME: 'http',
    });
    expect(p).not.toHaveProperty('HTTPS');
    expect(healthParams({ releaseDir: '/r', domain: 'a', serverPort: 443, https: true })).toMatchObject({ HTTPS: 'on', REQUEST_SCHEME: 'https' });
  });
});

describe('reloadDone', () => {
  it('waits for the re-executed master to listen again', () => {
    expect(reloadDone('NOTICE: Reloading in progress ...\nNOTICE: reloading: execvp(...)\n')).toBe(false);
    expect(reloadDone('NOTICE: using inherited socket fd=7\nNOTICE: fpm is running, pid 42\nNOTICE: ready to handle connections\n')).toBe(true);
    expect(reloadDone('')).toBe(false);
  });
});
