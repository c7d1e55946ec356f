import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configPath, parseConfig, readConfig, renderConfig, writeConfig, type CliConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'pressluftctl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the config file', () => {
  it.each([
    [{ PRESSLUFT_CONFIG: '/etc/p/config' }, '/etc/p/config'],
    [{ PRESSLUFT_CONFIG: '' }, '/home/ops/.pressluft/config'],
    [{}, '/home/ops/.pressluft/config'],
  ])('lives at %j -> %s', (env, path) => {
    expect(configPath(env, '/home/ops')).toBe(path);
  });

  it.each<[string, CliConfig]>([
    ['plain http', { server: 'http://127.0.0.1:8080', token: 'plt_abc', subject: 'admin' }],
    ['https with a CA', { server: 'https://127.0.0.1:8443', token: 'plt_def', subject: 'ops', certificateAuthority: CA }],
  ])('round-trips %s through a kubeconfig', (_name, config) => {
    const text = renderConfig(config);
    const doc = parse(text) as Record<string, unknown>;
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'pressluft' });
    expect(parseConfig(text, 'x')).toEqual(config);
  });

  it('is written whole with mode 0600 (a directory of 0700 made for it)', () => {
    const path = join(dir, 'nested', 'config');
    writeConfig(path, { server: 'http://h:1', token: 'plt_1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    writeFileSync(path, readFileSync(path), { mode: 0o644 });
    writeConfig(path, { server: 'http://h:2', token: 'plt_2' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readConfig(path)).toMatchObject({ server: 'http://h:2', token: 'plt_2' });
  });

  it.each([
    ['no file', undefined, /no config at .*: run pressluftctl login/],
    ['not YAML', '{{{', /is not YAML/],
    ['no current context', 'apiVersion: v1\nkind: Config\n', /has no current context with a server and a token/],
    ['no token', 'current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "http://h"}}]\nusers: [{name: u, user: {}}]\n', /has no current context/],
  ])('%s: a clear error', (_name, text, message) => {
    const path = join(dir, `bad-${_name.replace(/\W/g, '')}`);
    if (text !== undefined) writeFileSync(path, text);
    expect(() => readConfig(path)).toThrow(message);
  });
});
