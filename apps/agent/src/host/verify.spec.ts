import { describe, expect, it } from 'vitest';
import { redirectsToHttps } from './verify.js';

describe('redirectsToHttps: the node\'s own redirect of a site to its HTTPS', () => {
  it.each([
    [{ status: 301, body: '', location: 'https://shop.example.test/' }, true],
    [{ status: 301, body: '', location: 'https://shop.example.test:8082/' }, true],
    [{ status: 308, body: '', location: 'https://shop.example.test/x?y=1' }, true],
    [{ status: 302, body: '', location: 'https://shop.example.test/' }, false],
    [{ status: 301, body: '', location: 'http://shop.example.test/' }, false],
    [{ status: 301, body: '', location: 'https://shopXexample.test/' }, false],
    [{ status: 301, body: '', location: 'https://shop.example.test.evil.test/' }, false],
    [{ status: 301, body: '', location: 'https://evil.test/?shop.example.test' }, false],
    [{ status: 301, body: '' }, false],
    [{ status: 200, body: '' }, false],
  ])('%j -> %s', (probe, expected) => {
    expect(redirectsToHttps(probe, 'shop.example.test')).toBe(expected);
  });
});
