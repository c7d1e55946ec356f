import { describe, expect, it } from 'vitest';
import { consoleTarget, isApiPath } from './console-paths.js';

describe('isApiPath', () => {
  it.each([
    ['/apis/pressluft.io/v1/sites', true],
    ['/apis', true],
    ['/api/v1/events', true],
    ['/auth/v1/whoami', true],
    ['/openapi/v3', true],
    ['/openapi.json', true],
    ['/openapi.json/', true],
    ['/healthz/x', true],
    ['/version', true],
    ['/metrics', true],
    ['/healthz', true],
    ['/readyz', true],
    ['/', false],
    ['/sites', false],
    ['/sites/shop', false],
    ['/apisx', false],
    ['/authors', false],
    ['/main-ABCDEFGH.js', false],
  ])('%s -> %s', (path, api) => {
    expect(isApiPath(path)).toBe(api);
  });
});

describe('consoleTarget', () => {
  it.each([
    ['/', { kind: 'page' }],
    ['/sites/shop', { kind: 'page' }],
    ['/commands/shop-deploy-3', { kind: 'page' }],
    ['/main-QWHDJWDC.js', { kind: 'asset', cacheable: true }],
    ['/chunk-D5o-YcZG.js', { kind: 'asset', cacheable: true }],
    ['/styles-5INURTSO.css', { kind: 'asset', cacheable: true }],
    ['/favicon.ico', { kind: 'asset', cacheable: false }],
    ['/index.html', { kind: 'asset', cacheable: false }],
    ['/apis/pressluft.io/v1/sites', undefined],
    ['/metrics', undefined],
    ['/../etc/passwd', undefined],
    ['/a\0b', undefined],
  ])('%s', (path, target) => {
    expect(consoleTarget(path)).toEqual(target);
  });
});
