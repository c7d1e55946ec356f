import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { controlPlaneNatsUsers } from '../enrollment/nats-authorization.service.js';
import { writeFileAtomically } from '../enrollment/nats-authz.file.js';
import { renderNatsAuthorization } from '../enrollment/nats-authz.js';
import { loadOrCreateCa, loadOrIssue } from './pki.store.js';

export const NATS_SERVER_USAGE = 'usage: main.js pki nats-server --out DIR [--dns NAME]... [--ip ADDRESS]...';

export interface NatsServerPkiOptions {
  readonly out: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Parses `--out DIR [--dns NAME]... [--ip ADDRESS]...`; throws with the usage on anything else. */
export function parseNatsServerArgs(args: readonly string[]): NatsServerPkiOptions {
  let out: string | undefined;
  const dnsNames = ['localhost'];
  const ipAddresses = ['127.0.0.1'];
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag ?? ''} needs a value\n${NATS_SERVER_USAGE}`);
    if (flag === '--out') out = value;
    else if (flag === '--dns' && /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(value)) dnsNames.push(value.toLowerCase());
    else if (flag === '--ip' && isIP(value) !== 0) ipAddresses.push(value);
    else throw new Error(`unexpected argument ${flag ?? ''} ${value}\n${NATS_SERVER_USAGE}`);
  }
  if (!out || !isAbsolute(out)) throw new Error(`--out must be an absolute directory\n${NATS_SERVER_USAGE}`);
  return { out, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}

/**
 * What nats-server needs before the control plane starts (tools/dev up): `<out>/ca.pem` (our CA,
 * to verify clients), `<out>/server.pem` and `<out>/server-key.pem` (its serving certificate
 * from our CA; kept until 30 days before expiry, so a second run changes nothing), and, when
 * PRESSLUFT_NATS_AUTHZ_FILE is set and missing, a first authorization file with the control
 * plane's own user (the control plane adds the nodes).
 */
export async function writeNatsServerPki(config: ControlPlaneConfig, options: NatsServerPkiOptions, now: Date): Promise<string[]> {
  const ca = await loadOrCreateCa(config.pkiDir);
  mkdirSync(options.out, { recursive: true, mode: 0o755 });
  await loadOrIssue(
    options.out,
    'server',
    ca,
    { commonName: 'pressluft-nats', usage: 'server', dnsNames: options.dnsNames, ipAddresses: options.ipAddresses, validityDays: 365 },
    now,
  );
  // The CA certificate only (never its key).
  const caFile = `${options.out}/ca.pem`;
  if (!existsSync(caFile) || readFileSync(caFile, 'utf8') !== ca.cert) writeFileAtomically(caFile, ca.cert, 0o644);
  const written = [`${options.out}/ca.pem`, `${options.out}/server.pem`, `${options.out}/server-key.pem`];
  const authz = config.enrollment.natsAuthzFile;
  if (authz && !existsSync(authz)) {
    writeFileAtomically(authz, renderNatsAuthorization({ controlPlaneUsers: controlPlaneNatsUsers(config), nodes: [] }), 0o644);
    written.push(authz);
  }
  return written;
}
