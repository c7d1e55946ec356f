import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** The API server, e.g. `https://127.0.0.1:6443`. */
  readonly server: string;
  /** PEM of the CA that signed the server's certificate (TLS is always verified). */
  readonly caCert: string;
  /** Bearer token of the user. */
  readonly token: string;
  /** Name for the cluster, user and context entries. */
  readonly name?: string;
}

/** A kubeconfig (YAML) for one cluster, one token user and one current context. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const name = options.name ?? 'pressluft';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caCert, 'utf8').toString('base64') } }],
    users: [{ name, user: { token: options.token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes `kubeconfig` (mode 0600) into `dir` and returns its path. */
export function writeKubeconfig(dir: string, options: KubeconfigOptions): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, kubeconfigYaml(options), { mode: 0o600 });
  return path;
}
