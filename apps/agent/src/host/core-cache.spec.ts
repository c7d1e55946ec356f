import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireTheme, sourceFingerprint } from './core-cache.js';

describe('sourceFingerprint', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tree(): string {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-core-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'wp-includes'), { recursive: true });
    mkdirSync(join(dir, 'wp-content', 'themes'), { recursive: true });
    writeFileSync(join(dir, 'wp-includes', 'version.php'), "<?php $wp_version = '6.1.9';");
    return dir;
  }

  it('is stable, and changes when a package adds a directory or a file', async () => {
    const dir = tree();
    const first = await sourceFingerprint(dir);
    expect(await sourceFingerprint(dir)).toBe(first);
    mkdirSync(join(dir, 'wp-content', 'themes', 'twentytwentythree'));
    const withTheme = await sourceFingerprint(dir);
    expect(withTheme).not.toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 10));
    writeFileSync(join(dir, 'wp-content', 'themes', 'twentytwentythree', 'style.css'), 'x');
    expect(await sourceFingerprint(dir)).not.toBe(withTheme);
  });

  it('follows symlinks to files and survives a symlink cycle', async () => {
    const dir = tree();
    symlinkSync(join(dir, 'wp-includes', 'version.php'), join(dir, 'link.php'));
    symlinkSync(dir, join(dir, 'wp-content', 'loop'));
    await expect(sourceFingerprint(dir)).resolves.toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses a tree without a theme', async () => {
    const dir = tree();
    await expect(requireTheme(dir, '/usr/share/wordpress')).rejects.toThrow(/no theme.*wordpress-theme-twentytwentythree/);
    mkdirSync(join(dir, 'wp-content', 'themes', 'twentytwentythree'));
    await expect(requireTheme(dir, '/usr/share/wordpress')).resolves.toBeUndefined();
  });
});
