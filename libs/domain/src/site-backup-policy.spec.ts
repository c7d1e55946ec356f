import { describe, expect, it } from 'vitest';
import { onlySkipsPreDeleteBackup, siteSpecSchema, type SiteSpec } from './site.js';

const spec = (more: Record<string, unknown> = {}): SiteSpec =>
  siteSpecSchema.parse({ domains: ['shop.example.test'], wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' }, ...more });

describe('onlySkipsPreDeleteBackup', () => {
  it.each([
    ['setting it where no backup policy was', spec(), spec({ backup: { skipPreDeleteBackup: true } }), true],
    ['setting it in an existing policy', spec({ backup: { store: 'box' } }), spec({ backup: { store: 'box', skipPreDeleteBackup: true } }), true],
    ['clearing it', spec({ backup: { skipPreDeleteBackup: true } }), spec({ backup: { skipPreDeleteBackup: false } }), true],
    ['no change at all', spec(), spec(), true],
    ['setting it and changing the store', spec(), spec({ backup: { store: 'box', skipPreDeleteBackup: true } }), false],
    ['setting it and changing the domains', spec(), spec({ backup: { skipPreDeleteBackup: true }, domains: ['other.example.test'] }), false],
  ] as const)('%s: %s', (_, before, after, expected) => {
    expect(onlySkipsPreDeleteBackup(before, after)).toBe(expected);
  });
});
