import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupArgs, backupTags, checkSnapshotId, findSnapshotFile, parseResticStatus, parseResticSummary, restRepository, resticEnv, ResticSession, sftpCommand, sftpEndpoint } from './restic.js';

const ID = 'a'.repeat(64);

describe('restic argv and environment', () => {
  it('tags per site, id, part and Backup; the host and a UTC time; nothing secret', () => {
    const argv = backupArgs({ filename: 'blog/database.sql', tags: backupTags('blog', 'abcd1234', 'database', 'blog-manual-1'), host: 'node-1', time: new Date('2026-12-07T03:04:05.678Z') });
    expect(argv).toEqual([
      'backup', '--stdin', '--stdin-filename', 'blog/database.sql',
      '--tag', 'pressluft', '--tag', 'site=blog', '--tag', 'site-id=abcd1234', '--tag', 'part=database', '--tag', 'backup=blog-manual-1',
      '--host', 'node-1', '--time', '2026-12-07 03:04:05', '--json',
    ]);
    const env = resticEnv('/srv/repo', '/root/restic-password', '/var/cache/restic');
    expect(env).toMatchObject({ TZ: 'UTC', RESTIC_REPOSITORY: '/srv/repo', RESTIC_PASSWORD_FILE: '/root/restic-password', RESTIC_CACHE_DIR: '/var/cache/restic' });
    expect(env['RESTIC_PASSWORD']).toBeUndefined();
  });

  it('puts a REST login into the URL (for the environment), escaped', () => {
    expect(restRepository('rest:http://127.0.0.1:8000/', 'ops', 'p@ss/w:rd')).toBe('rest:http://ops:p%40ss%2Fw%3Ard@127.0.0.1:8000/');
    expect(restRepository('rest:https://backup.example/repo', '', '')).toBe('rest:https://backup.example/repo');
  });

  it('builds ssh for an sftp store from the repository, with key and known_hosts paths and no prompt', () => {
    expect(sftpEndpoint('sftp:u123@u123.your-storagebox.de:/backups')).toEqual({ user: 'u123', host: 'u123.your-storagebox.de' });
    expect(sftpEndpoint('sftp://u1@box.example:23//srv/restic')).toEqual({ user: 'u1', host: 'box.example', port: '23' });
    expect(sftpEndpoint('sftp:box:/r')).toEqual({ host: 'box' });
    expect(() => sftpEndpoint('sftp:/no-host')).toThrow(/not sftp:/);
    expect(sftpCommand('sftp://u1@box.example:23//srv/restic', '/s/key', '/s/kh')).toBe(
      'ssh -p 23 -l u1 -i /s/key -o UserKnownHostsFile=/s/kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes box.example -s sftp',
    );
    expect(() => sftpCommand('sftp:box:/r', '/a dir/key', '/s/kh')).toThrow(/space or quote/);
  });

  it('accepts only snapshot ids (never an option or a path)', () => {
    expect(checkSnapshotId('809aa70f')).toBe('809aa70f');
    expect(() => checkSnapshotId('--help')).toThrow(/not a restic snapshot id/);
    expect(() => checkSnapshotId('latest')).toThrow(/not a restic snapshot id/);
  });
});

describe('parseResticStatus', () => {
  it('reads bytes and files done from a status line; ignores the rest', () => {
    expect(parseResticStatus('{"message_type":"status","percent_done":0.5,"total_files":1,"files_done":0,"bytes_done":2048}')).toEqual({ bytes: 2048, files: 0 });
    expect(parseResticStatus('{"message_type":"summary","data_added":1}')).toBeUndefined();
    expect(parseResticStatus('Fatal: no repository')).toBeUndefined();
    expect(parseResticStatus('{broken')).toBeUndefined();
  });
});

describe('ResticSession', () => {
  it('keeps the credentials in root-only files of a 0700 dir under the state dir, removed on close; REST login and password redacted', async () => {
    const state = mkdtempSync(join(tmpdir(), 'pl-restic-'));
    try {
      const session = await ResticSession.open(state, { repository: 'rest:http://127.0.0.1:9/', password: 'repo-secret', sshPrivateKey: '', sshKnownHosts: '', restUsername: 'ops', restPassword: 'rest-secret' });
      const runs = readdirSync(join(state, 'restic')).filter((n) => n.startsWith('run-'));
      expect(runs).toHaveLength(1);
      const dir = join(state, 'restic', runs[0] ?? '', 'restic');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'password')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'password'), 'utf8')).toBe('repo-secret\n');
      expect(statSync(join(dir, 'password')).uid).toBe(0);
      expect(session.prefix[0]).toBe('/usr/bin/restic');
      expect(session.env['RESTIC_REPOSITORY']).toBe('rest:http://ops:rest-secret@127.0.0.1:9/');
      expect(session.prefix.join(' ')).not.toMatch(/secret/);
      expect(session.redact('Fatal: rest:http://ops:rest-secret@127.0.0.1:9/ refused; repo-secret')).not.toMatch(/secret/);
      await session.close();
      expect(readdirSync(join(state, 'restic')).filter((n) => n.startsWith('run-'))).toEqual([]);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('with a restic user: restic runs as that user (setpriv, no privileges), its credential files and cache are its own, the run dir stays root-only for the agent', async () => {
    const state = mkdtempSync(join(tmpdir(), 'pl-restic-'));
    const nobody = { uid: 65534, gid: 65534 };
    try {
      const session = await ResticSession.open(state, { repository: '/srv/backups/default', password: 'repo-secret', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' }, nobody);
      expect(session.prefix).toEqual(['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs', '--', '/usr/bin/restic']);
      const password = String(session.env['RESTIC_PASSWORD_FILE']);
      expect(statSync(password)).toMatchObject({ uid: 65534, gid: 65534 });
      expect(statSync(join(password, '..')).mode & 0o777).toBe(0o700);
      expect(statSync(join(password, '..', '..')).uid).toBe(0);
      expect(statSync(String(session.env['RESTIC_CACHE_DIR']))).toMatchObject({ uid: 65534 });
      const own = await session.privateFile('client.cnf', '[client]\npassword=x\n');
      expect(statSync(own)).toMatchObject({ uid: 0, mode: expect.any(Number) as number });
      expect(statSync(own).mode & 0o777).toBe(0o600);
      await session.close();
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('writes an sftp store key and known_hosts as files and names only their paths on argv', async () => {
    const state = mkdtempSync(join(tmpdir(), 'pl-restic-'));
    try {
      const session = await ResticSession.open(state, { repository: 'sftp:u1@box:/r', password: 'p', sshPrivateKey: 'KEY-MATERIAL', sshKnownHosts: 'box ssh-ed25519 AAAA', restUsername: '', restPassword: '' });
      const option = session.prefix.find((a) => a.startsWith('sftp.command=')) ?? '';
      expect(option).toMatch(/^sftp\.command=ssh -l u1 -i \S+\/ssh-key -o UserKnownHostsFile=\S+\/known_hosts /);
      expect(session.prefix.join(' ')).not.toContain('KEY-MATERIAL');
      const key = option.split(' ')[4] ?? '';
      expect(statSync(key).mode & 0o777).toBe(0o600);
      await session.close();
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('parseResticSummary', () => {
  const summary = JSON.stringify({ message_type: 'summary', files_new: 1, data_added: 1234, total_bytes_processed: 5678, snapshot_id: ID });
  it('accepts restic 0.14 short ids (8 hex digits)', () => {
    const short = JSON.stringify({ message_type: 'summary', data_added: 575, total_bytes_processed: 3, snapshot_id: '809aa70f' });
    expect(parseResticSummary(`{"message_type":"status","percent_done":0,"total_files":1}\n${short}`)).toEqual({ snapshotId: '809aa70f', bytesAdded: 575, totalBytes: 3 });
  });
  it('reads the summary after status lines', () => {
    const status = JSON.stringify({ message_type: 'status', percent_done: 0.5 });
    expect(parseResticSummary(`${status}\n${status}\n${summary}\n`)).toEqual({ snapshotId: ID, bytesAdded: 1234, totalBytes: 5678 });
  });
  it('is undefined without a summary, with a malformed one, or with non-JSON text', () => {
    expect(parseResticSummary('')).toBeUndefined();
    expect(parseResticSummary('{"message_type":"status"}\nFatal: unable to open repository\n')).toBeUndefined();
    expect(parseResticSummary(JSON.stringify({ message_type: 'summary', snapshot_id: 'short', data_added: 1, total_bytes_processed: 1 }))).toBeUndefined();
    expect(parseResticSummary('{not json')).toBeUndefined();
  });
});

describe('findSnapshotFile', () => {
  const ls = [
    '{"time":"2026-12-07T03:02:45Z","paths":["/s/files.tar"],"struct_type":"snapshot"}',
    '{"name":"s","type":"dir","path":"/s","struct_type":"node"}',
    '{"name":"files.tar","type":"file","path":"/s/files.tar","struct_type":"node"}',
  ].join('\n');
  it("finds the one file by name whatever the backup's site was called", () => {
    expect(findSnapshotFile(ls, 'files.tar')).toBe('/s/files.tar');
  });
  it('refuses a snapshot without it', () => {
    expect(() => findSnapshotFile(ls, 'database.sql')).toThrow(/holds 0 files named database.sql/);
  });
});
