import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateValidity } from '@pressluft/platform';

/** Resource names (contract.md); a node's name is one. */
export const NODE_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** What the agent needs to reach the bus (from the control plane's enrollment answer). */
export interface NodeNatsSettings {
  readonly url: string;
  readonly stream: string;
  readonly durable: string;
  readonly commandSubject: string;
  readonly eventSubjectPrefix: string;
  readonly inboxPrefix: string;
}

/**
 * The node's identity: its private key (made here, never sent anywhere), the client
 * certificate the control plane's CA signed for it, the CA, and the NATS settings.
 */
export interface NodeIdentity {
  readonly stateDir: string;
  readonly node: string;
  readonly keyPem: string;
  readonly certificatePem: string;
  readonly caPem: string;
  /** RFC 3339 UTC. */
  readonly expiresAt: string;
  readonly nats: NodeNatsSettings;
}

/** One file, so key, certificate and settings always change together. Mode 0600: it holds the key. */
export const IDENTITY_FILE = 'identity.json';

export const identityPath = (stateDir: string): string => join(stateDir, IDENTITY_FILE);

/** Writes the identity atomically (temp file + rename in the same directory), owner-only. */
export function saveIdentity(identity: NodeIdentity): void {
  mkdirSync(identity.stateDir, { recursive: true, mode: 0o700 });
  const path = identityPath(identity.stateDir);
  const temp = `${path}.${process.pid}.tmp`;
  const { stateDir: _dir, ...stored } = identity;
  writeFileSync(temp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

const STRING_FIELDS = ['node', 'keyPem', 'certificatePem', 'caPem', 'expiresAt'] as const;
const NATS_FIELDS = ['url', 'stream', 'durable', 'commandSubject', 'eventSubjectPrefix', 'inboxPrefix'] as const;

/** The stored identity, or undefined when the node has not enrolled yet. Throws on a damaged file. */
export function loadIdentity(stateDir: string): NodeIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(identityPath(stateDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const raw = JSON.parse(text) as Record<string, unknown>;
  const nats = raw['nats'] as Record<string, unknown> | undefined;
  for (const field of STRING_FIELDS) {
    if (typeof raw[field] !== 'string' || raw[field] === '') throw new Error(`${identityPath(stateDir)}: ${field} is missing`);
  }
  for (const field of NATS_FIELDS) {
    if (typeof nats?.[field] !== 'string' || nats[field] === '') throw new Error(`${identityPath(stateDir)}: nats.${field} is missing`);
  }
  const identity = raw as unknown as Omit<NodeIdentity, 'stateDir'>;
  if (!NODE_NAME_PATTERN.test(identity.node)) throw new Error(`${identityPath(stateDir)}: node is not a valid node name`);
  return { ...identity, stateDir };
}

/** True when the certificate belongs to the private key (the answer was for our request). */
export function certificateMatchesKey(certificatePem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/**
 * Renewal is due when less than a third of the certificate's validity is left, or when the
 * certificate carries no bus identity (a `urn:pressluft:node:` URI, ADR 0012): one issued before
 * NATS users were per certificate is no NATS user at all and must be replaced.
 */
export function renewalDue(certificatePem: string, now: Date): boolean {
  if (!new X509Certificate(certificatePem).subjectAltName?.includes('URI:urn:pressluft:node:')) return true;
  const { notBefore, notAfter } = certificateValidity(certificatePem);
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return notAfter.getTime() - now.getTime() < lifetime / 3;
}
