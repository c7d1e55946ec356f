import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from './errors.js';

/** Where pressluftctl talks to and as whom. */
export interface CliConfig {
  readonly server: string;
  readonly token: string;
  /** PEM of the CA that signed the control plane's serving certificate (https servers). */
  readonly certificateAuthority?: string;
  /** The token's subject, as whoami said at login (the user entry's name). */
  readonly subject?: string;
}

const CONTEXT = 'pressluft';

/** $PRESSLUFT_CONFIG, else ~/.pressluft/config. */
export function configPath(env: NodeJS.ProcessEnv, home: string): string {
  return env['PRESSLUFT_CONFIG'] || join(home, '.pressluft', 'config');
}

/** A kubeconfig (one cluster, user and context), so kubectl can use the same file. */
export function renderConfig(config: CliConfig): string {
  const user = config.subject ?? 'pressluft';
  const cluster: Record<string, string> = { server: config.server };
  if (config.certificateAuthority) cluster['certificate-authority-data'] = Buffer.from(config.certificateAuthority).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': CONTEXT,
    clusters: [{ name: CONTEXT, cluster }],
    users: [{ name: user, user: { token: config.token } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user } }],
  });
}

interface Named<T> {
  name?: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

/** Reads the current context's server, CA and token; a clear error names what is missing. */
export function parseConfig(text: string, path: string): CliConfig {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${path} is not YAML: ${(error as Error).message}`);
  }
  const pick = <T>(list: unknown, name: unknown, key: 'cluster' | 'user' | 'context'): T | undefined => {
    const entries = Array.isArray(list) ? (list as Array<Named<T>>) : [];
    return entries.find((e) => e.name === name)?.[key];
  };
  const context = pick<{ cluster?: unknown; user?: unknown }>(doc['contexts'], doc['current-context'], 'context');
  const cluster = pick<Record<string, unknown>>(doc['clusters'], context?.cluster, 'cluster');
  const user = pick<Record<string, unknown>>(doc['users'], context?.user, 'user');
  const server = cluster?.['server'];
  const token = user?.['token'];
  if (typeof server !== 'string' || typeof token !== 'string') {
    throw new UsageError(`${path} has no current context with a server and a token: run pressluftctl login`);
  }
  const caData = cluster?.['certificate-authority-data'];
  return {
    server,
    token,
    ...(typeof caData === 'string' ? { certificateAuthority: Buffer.from(caData, 'base64').toString('utf8') } : {}),
    ...(typeof context?.user === 'string' ? { subject: context.user } : {}),
  };
}

export function readConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`no config at ${path}: run pressluftctl login --server URL --token-file FILE`);
  }
  return parseConfig(text, path);
}

/** Written whole (temp file, then rename) and readable by its owner only: it holds a token. */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, renderConfig(config), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
