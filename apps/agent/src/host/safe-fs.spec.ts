import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { singleName, discard, Dir, inTree, readIfExists, removeTree, UnsafePathError } from './safe-fs.js';
import { diff, snapshot } from '../../test/watched-set.js';

// Runs as root (like the agent). `victim` stands for /etc: a tenant's symlink points there.
let root = '';
let tree = '';
let victim = '';

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'safe-fs-'));
  tree = join(root, 'site');
  victim = join(root, 'etc');
  mkdirSync(join(tree, 'shared'), { recursive: true });
  mkdirSync(join(victim, 'cron.d'), { recursive: true });
  writeFileSync(join(victim, 'passwd'), 'root:x:0:0\n', { mode: 0o644 });
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const fifo = (path: string) => execFileSync('/usr/bin/mkfifo', [path]);

describe('names', () => {
  it.each(['', '.', '..', 'a/b', '/etc', 'a\0b'])('refuses %j as a single name', (name) => {
    expect(() => singleName(name)).toThrow(/not a single file name/);
  });
});

describe('a tenant symlink is never followed', () => {
  it('/proc/self/fd/N/<name> opened with O_NOFOLLOW refuses a symlink at <name> (the mechanism every operation rests on)', async () => {
    symlinkSync(join(victim, 'passwd'), join(tree, 'shared', 'wp-config.php'));
    await expect(inTree(tree, ['shared'], (shared) => shared.readFile('wp-config.php'))).rejects.toThrow(UnsafePathError);
  });

  it('refuses a symlink at every component of a walk (attack: shared -> /etc)', async () => {
    rmSync(join(tree, 'shared'), { recursive: true });
    symlinkSync(victim, join(tree, 'shared'));
    await expect(inTree(tree, ['shared'], () => Promise.resolve())).rejects.toThrow(/shared is a symlink, not a directory: not followed/);
    symlinkSync(victim, join(root, 'tree-link'));
    await expect(inTree(join(root, 'tree-link'), [], () => Promise.resolve())).rejects.toThrow(UnsafePathError);
  });

  it('an atomic write replaces a planted symlink and writes nothing through it (attack: wp-config.php -> /etc/passwd)', async () => {
    const before = await snapshot([victim]);
    symlinkSync(join(victim, 'passwd'), join(tree, 'shared', 'wp-config.php'));
    const wrote = await inTree(tree, ['shared'], (shared) => shared.ensureFile('wp-config.php', '<?php\n', { mode: 0o640, owner: { uid: 0, gid: 33 } }));
    expect(wrote).toBe(true);
    const st = lstatSync(join(tree, 'shared', 'wp-config.php'));
    expect([st.isFile(), st.mode & 0o7777, st.uid, st.gid]).toEqual([true, 0o640, 0, 33]);
    expect(readFileSync(join(tree, 'shared', 'wp-config.php'), 'utf8')).toBe('<?php\n');
    expect(await diff(before)).toEqual([]);
  });

  it('ensureDir refuses a symlink in place of a directory and chowns nothing through it (attack: uploads -> /etc/cron.d)', async () => {
    const before = await snapshot([victim]);
    symlinkSync(join(victim, 'cron.d'), join(tree, 'shared', 'uploads'));
    await expect(inTree(tree, ['shared'], (shared) => shared.ensureDir('uploads', { mode: 0o750, owner: { uid: 65534, gid: 65534 } }))).rejects.toThrow(UnsafePathError);
    expect(await diff(before)).toEqual([]);
  });

  it('symlinkAtomic (with an owner for the new link) and readlink work on the entry itself', async () => {
    await inTree(tree, [], (site) => site.symlinkAtomic('current', 'releases/20261129T181500Z'));
    expect(readlinkSync(join(tree, 'current'))).toBe('releases/20261129T181500Z');
    expect(await inTree(tree, [], (site) => site.readlink('current'))).toBe('releases/20261129T181500Z');
    expect(await inTree(tree, [], (site) => site.readlink('shared'))).toBeUndefined();
    await inTree(tree, [], (site) => site.symlinkAtomic('current', 'releases/20261129T181501Z', { uid: 65534, gid: 65534 }));
    expect([readlinkSync(join(tree, 'current')), lstatSync(join(tree, 'current')).uid]).toEqual(['releases/20261129T181501Z', 65534]);
  });

  it('discard moves a planted symlink out and removes the link, not its target', async () => {
    const before = await snapshot([victim]);
    const area = join(root, 'build');
    mkdirSync(area, { mode: 0o700 });
    symlinkSync(victim, join(tree, 'shared', 'old'));
    await inTree(tree, ['shared'], (shared) => discard(shared, 'old', area, 'site'));
    expect(() => lstatSync(join(tree, 'shared', 'old'))).toThrow(/ENOENT/);
    expect(await diff(before)).toEqual([]);
    await inTree(tree, ['shared'], (shared) => discard(shared, 'never-there', area, 'site'));
  });
});

describe('a FIFO or device never blocks the agent', () => {
  it('reading a FIFO planted as a managed file fails at once with a clear error (attack: mkfifo shared/wp-config.php)', async () => {
    fifo(join(tree, 'shared', 'wp-config.php'));
    const started = Date.now();
    await expect(inTree(tree, ['shared'], (shared) => shared.readFile('wp-config.php'))).rejects.toThrow(/wp-config.php is a FIFO, not a regular file: not read/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ensureFile replaces a FIFO, without opening it for writing', async () => {
    fifo(join(tree, 'shared', 'wp-config.php'));
    await inTree(tree, ['shared'], (shared) => shared.ensureFile('wp-config.php', 'x', { mode: 0o640 }));
    expect(statSync(join(tree, 'shared', 'wp-config.php')).isFile()).toBe(true);
  });

  it('readIfExists of a root path refuses a device and answers undefined for a missing file or directory', async () => {
    await expect(readIfExists('/dev/zero')).rejects.toThrow(/a device, not a regular file/);
    expect(await readIfExists(join(root, 'missing', 'file'))).toBeUndefined();
  });
});

describe('removeTree', () => {
  it('removes a tree and stays out of a symlinked directory inside it', async () => {
    const before = await snapshot([victim]);
    const doomed = join(root, 'doomed');
    mkdirSync(join(doomed, 'a', 'b'), { recursive: true });
    writeFileSync(join(doomed, 'a', 'b', 'f'), 'x');
    symlinkSync(victim, join(doomed, 'a', 'etc'));
    await removeTree(doomed);
    expect(() => lstatSync(doomed)).toThrow(/ENOENT/);
    expect(await diff(before)).toEqual([]);
  });
});

describe('raced by a tenant loop', () => {
  // A process as nobody swaps shared/ between a real directory and a symlink to the victim as fast
  // as it can while the agent writes, checks and removes inside it; nothing may reach the victim.
  it('200 writes, ensureDirs and discards into a directory a tenant keeps swapping for a symlink change nothing outside the tree', async () => {
    chownSync(tree, 65534, 65534);
    chownSync(join(tree, 'shared'), 65534, 65534);
    chmodSync(root, 0o755);
    const area = join(root, 'build');
    mkdirSync(area, { mode: 0o700 });
    const before = await snapshot([victim]);
    const loop = spawn('/bin/sh', ['-c', `cd ${tree} && while :; do mv -T shared real 2>/dev/null; ln -s ${victim} shared 2>/dev/null; rm -f shared; mv -T real shared 2>/dev/null; done`], {
      uid: 65534,
      gid: 65534,
      stdio: 'ignore',
    });
    const outcomes = { done: 0, refused: 0 };
    try {
      for (let i = 0; i < 200; i++) {
        try {
          await inTree(tree, ['shared'], async (shared) => {
            await shared.ensureFile('wp-config.php', `run ${i}\n`, { mode: 0o640 });
            await (await shared.ensureDir('uploads', { mode: 0o750, owner: { uid: 65534, gid: 65534 } })).close();
            await shared.writeFileAtomic('passwd', 'owned\n', { mode: 0o644 });
            await discard(shared, 'passwd', area, 'site');
          });
          outcomes.done++;
        } catch (error) {
          if (!(error instanceof UnsafePathError) && !(error instanceof Error && /ENOENT/.test(error.message))) throw error;
          outcomes.refused++;
        }
      }
    } finally {
      loop.kill('SIGKILL');
    }
    console.log(`raced: ${JSON.stringify(outcomes)}`);
    expect(outcomes.done + outcomes.refused).toBe(200);
    // The loop did race the agent (some walks met its symlink), and nothing reached the victim.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(await diff(before)).toEqual([]);
  });
});

describe('Dir', () => {
  it('lists entries and reports a missing one as undefined', async () => {
    writeFileSync(join(tree, 'shared', 'a'), 'a');
    const names = await Dir.with(tree, ['shared'], async (shared) => (await shared.entries()).map((e) => e.name));
    expect(names).toEqual(['a']);
    expect(await inTree(tree, ['shared'], (shared) => shared.lstat('missing'))).toBeUndefined();
  });
});
