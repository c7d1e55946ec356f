import { statSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { V1 } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CliWorld } from '../../test/cli-world.js';

/** pressluftctl's login, tokens and join tokens against a real control plane; output formats and exit codes. */
describe('pressluftctl access', () => {
  let w: CliWorld;

  beforeAll(async () => {
    w = await CliWorld.start('ctlacc');
  }, 180_000);

  afterAll(async () => {
    await w?.stop();
  });

  it('login verifies the token and writes a 0600 kubeconfig; the token comes from a file or stdin, never argv', async () => {
    const config = join(w.dir, 'login', 'config');
    const tokenFile = w.file('login.token', `${w.processes.adminToken}\n`);
    const fromFile = await w.run(['login', '--server', w.server, '--token-file', tokenFile], { config });
    expect(fromFile, fromFile.stderr).toMatchObject({ code: 0, stdout: `Logged in to ${w.server} as admin (admin); config written to ${config}\n` });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const kubeconfig = parseYaml(readFileSync(config, 'utf8')) as Record<string, unknown>;
    expect(kubeconfig).toMatchObject({ kind: 'Config', 'current-context': 'pressluft', clusters: [{ cluster: { server: w.server } }], users: [{ name: 'admin', user: { token: w.processes.adminToken } }] });
    expect(fromFile.stdout + fromFile.stderr).not.toContain(w.processes.adminToken);

    const stdinConfig = join(w.dir, 'stdin', 'config');
    const fromStdin = await w.run(['login', '--server', w.server, '--token-stdin', '-o', 'json'], { config: stdinConfig, input: `${w.processes.adminToken}\n` });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ server: w.server, subject: 'admin', role: 'admin', config: stdinConfig });

    const refused: Array<[string[], number, RegExp]> = [
      [['login', '--server', w.server, '--token', w.processes.adminToken], 2, /Unknown argument: token/],
      [['login', '--server', w.server], 2, /--token-file FILE or --token-stdin/],
      [['login', '--token-file', tokenFile], 2, /login needs --server URL/],
      [['login', '--server', w.server, '--token-file', join(w.dir, 'missing')], 2, /cannot read the token file/],
      [['login', '--server', w.server, '--token-file', w.file('wrong.token', 'plt_wrong\n')], 3, /^error: Unauthorized: /],
      [['login', '--server', 'http://127.0.0.1:1', '--token-file', tokenFile], 4, /cannot reach http:\/\/127\.0\.0\.1:1/],
    ];
    const none = join(w.dir, 'none', 'config');
    for (const [args, code, message] of refused) {
      const result = await w.run(args, { config: none });
      expect({ args: args.join(' '), code: result.code }).toEqual({ args: args.join(' '), code });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(w.processes.adminToken);
    }
    expect(existsSync(none)).toBe(false);
  });

  it('token create prints the token once; list shows it without the secret (table, yaml); revoke ends it; a viewer is refused (3)', async () => {
    await w.login();
    const created = await w.run(['token', 'create', '--subject', 'ci-viewer', '--role', 'viewer']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^plt_/);
    const id = /id ([0-9a-f-]{36})/.exec(created.stderr)?.[1] ?? '';
    expect(created.stderr).toContain('token for ci-viewer (viewer) created');

    const table = await w.run(['token', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^ID +SUBJECT +ROLE +CREATED BY +AGE +REVOKED\n(.*\n)*${id} +ci-viewer +viewer +admin +\\d+s +-\n`));
    expect(table.stdout).not.toContain(token);
    const yaml = parseYaml((await w.run(['token', 'list', '-o', 'yaml'])).stdout) as { items: Array<Record<string, unknown>> };
    expect(yaml.items).toContainEqual(expect.objectContaining({ id, subject: 'ci-viewer', role: 'viewer' }));

    const viewerConfig = join(w.dir, 'viewer', 'config');
    expect((await w.run(['login', '--server', w.server, '--token-stdin'], { config: viewerConfig, input: token })).code).toBe(0);
    const forbidden = await w.run(['token', 'list'], { config: viewerConfig });
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/^error: Forbidden: /);

    const revoked = await w.run(['token', 'revoke', id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `token ${id} (ci-viewer) revoked\n` });
    const after = await w.run(['token', 'list'], { config: viewerConfig });
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/^error: Unauthorized: /);

    const bad = await w.run(['token', 'create', '--subject', 'Bad Subject', '--role', 'viewer']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/subject/);
    expect((await w.run(['token', 'create', '--subject', 'x', '--role', 'root'])).code).toBe(2);
    const list = await w.scenario.call<{ items: Array<{ subject: string }> }>(w.replica, '/auth/v1/tokens');
    expect(list.body.items.map((t) => t.subject)).not.toContain('Bad Subject');
  });

  it('join-token create, list (json) and revoke; a bad ttl is a usage error', async () => {
    await w.login();
    const created = await w.run(['join-token', 'create', '--node', 'web-7', '--ttl', '10m']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toMatch(/^plj_/);
    const id = /id ([0-9a-f-]{36})/.exec(created.stderr)?.[1] ?? '';
    const listed = JSON.parse((await w.run(['join-token', 'list', '-o', 'json'])).stdout) as { items: Array<Record<string, unknown>> };
    const entry = listed.items.find((t) => t['id'] === id);
    expect(entry).toMatchObject({ node: 'web-7', state: 'Pending', createdBy: 'admin' });
    expect(Date.parse(String(entry?.['expiresAt'])) - Date.parse(String(entry?.['createdAt']))).toBe(600_000);
    expect(JSON.stringify(listed)).not.toContain(created.stdout.trim());
    const revoked = await w.run(['join-token', 'revoke', id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `join token ${id} (node web-7) revoked\n` });
    expect((await w.run(['join-token', 'create', '--node', 'web-7', '--ttl', 'soon'])).code).toBe(2);
    const tooLong = await w.run(['join-token', 'create', '--node', 'web-7', '--ttl', '48h']);
    expect(tooLong.code).toBe(3);
    expect(tooLong.stderr).toContain('ttlSeconds');
  });

  it('an unreachable server exits 4; a command without a config exits 2 naming login; completion prints a script', async () => {
    const unreachable = await w.run(['--server', 'http://127.0.0.1:1', 'token', 'list']);
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:1');
    const noConfig = await w.run(['token', 'list'], { config: join(w.dir, 'nowhere') });
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('run pressluftctl login');
    const completion = await w.run(['completion']);
    expect(completion.code).toBe(0);
    expect(completion.stdout).toContain('pressluftctl --get-yargs-completions');
    const api = await w.scenario.call(w.replica, `${V1}/sites`);
    expect(api.status).toBe(200);
  });
});
