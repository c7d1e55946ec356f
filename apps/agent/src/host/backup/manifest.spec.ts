import { describe, expect, it } from 'vitest';
import { renderManifest, serverNames } from './manifest.js';

describe('manifest', () => {
  it('collects every server_name of the block, once', () => {
    expect(serverNames('server {\n  server_name shop.example www.shop.example;\n  server_name shop.example;\n}\n')).toEqual(['shop.example', 'www.shop.example']);
    expect(serverNames('')).toEqual([]);
  });
  it('renders format 1 JSON', () => {
    const text = renderManifest({ site: 's', id: 'abcd1234', domains: ['s.example'], backup: 'b', release: '20261207T030000Z', wordpressVersion: '6.1.1', gitCommit: '', nonInnodbTables: [], createdAt: '2026-12-07T03:00:00.000Z' });
    expect(JSON.parse(text)).toMatchObject({ format: 1, site: 's', release: '20261207T030000Z' });
  });
});
