import 'reflect-metadata';
import type { CommandSpec, CommandState } from '@pressluft/domain';
import { api, callSiteSecretAccess, type CallResult, type ClientIdentity } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { nodeIdentities, type NodeIdentities } from '../../test/node-identity.js';
import { EnrollmentGrpcServer } from '../enrollment/enrollment.grpc.js';

/*
 * NodeService.SiteSecretAccess over real gRPC and mutual TLS against a real control plane: the
 * caller's client certificate names the node; only its own in-flight IssueCertificate of the site
 * gets the one credential that command needs.
 */

const SITES = '/apis/pressluft.io/v1/sites';
const MERGE = 'application/merge-patch+json';
const KEY = '-----BEGIN PRIVATE KEY-----\nU2l0ZUtleU1hdGVyaWFsWnQ1dw==\n-----END PRIVATE KEY-----\n';
const TOKEN = 'dns-token-Hc8vN2pL';
const CUSTOM = { mode: 'custom', custom: { certificate: '-----BEGIN CERTIFICATE-----\nQ2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' } };
const DNS01 = { acme: { challenge: 'dns-01', dns: { provider: 'cloudflare' } } };

const expectCode = <T>(result: CallResult<T>, codeName: string, details?: string) => {
  expect(result.ok ? 'OK' : `${result.codeName}: ${result.details}`).toMatch(new RegExp(`^${codeName}`));
  if (details && !result.ok) expect(result.details).toContain(details);
  if (!result.ok) for (const secret of ['U2l0ZUtleU1hdGVyaWFsWnQ1dw', TOKEN]) expect(result.details).not.toContain(secret);
};

describe('NodeService.SiteSecretAccess (gRPC, mutual TLS)', () => {
  let fx: ControlPlaneFixture;
  let nodes: NodeIdentities;
  let endpoint: string;
  const identities = new Map<string, ClientIdentity>();

  const site = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: { name },
    spec: { domains: [`${name}.example.test`], wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' }, ...spec },
  });
  const issue = (name: string, spec: Partial<CommandSpec>, state: CommandState) =>
    nodes.command(name, { site: 'shop', node: 'n1', fence: 1, operation: 'IssueCertificate', generation: 1, certificate: 'custom', ...spec }, state);
  const ask = (node: string, siteName: string, command: string, field: string) => callSiteSecretAccess(endpoint, nodes.caPem, { site: siteName, command, field }, identities.get(node));

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ grpc: true });
    nodes = nodeIdentities(fx);
    endpoint = `127.0.0.1:${fx.plane.app.get(EnrollmentGrpcServer).port}`;
    for (const node of ['n1', 'n2']) identities.set(node, await nodes.certify(node));
    const call = (path: string, options: Parameters<typeof api>[2]) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
    for (const body of [
      site('shop', { tls: CUSTOM, credentials: { tlsPrivateKey: KEY } }),
      site('dns', { tls: DNS01, credentials: { dnsApiToken: TOKEN, tlsPrivateKey: KEY } }),
      site('plain', {}),
      site('moved', { tls: CUSTOM, credentials: { tlsPrivateKey: KEY } }),
      site('repo', { code: { git: { url: 'https://git.example.test/acme/repo.git', ref: 'main' } }, credentials: { gitToken: TOKEN } }),
    ]) {
      const created = await call(SITES, { method: 'POST', body });
      expect(created.status, created.text).toBe(201);
    }
    await issue('shop-1', {}, 'RUNNING');
    await issue('shop-2', { fence: 2 }, 'SUCCEEDED');
    await issue('shop-3', { fence: 3, operation: 'DeploySite', certificate: undefined }, 'RUNNING');
    await issue('dns-1', { site: 'dns', certificate: 'acme' }, 'DISPATCHED');
    await issue('plain-1', { site: 'plain', certificate: 'acme' }, 'PENDING');
    await issue('gone-1', { site: 'gone' }, 'RUNNING');
    await issue('moved-1', { site: 'moved' }, 'RUNNING');
    await issue('repo-1', { site: 'repo', operation: 'DeploySite', certificate: undefined }, 'RUNNING');
    await issue('repo-2', { site: 'repo', fence: 2, operation: 'ProvisionSite', certificate: undefined }, 'FAILED');
    await issue('repo-3', { site: 'repo', fence: 3, operation: 'BackupSite', certificate: undefined }, 'RUNNING');
    // The site moved on to ACME by http-01 and dropped its key while the custom issuance runs.
    const moved = await call(`${SITES}/moved`, { method: 'PATCH', contentType: MERGE, body: { spec: { tls: { mode: 'acme', custom: null }, credentials: { tlsPrivateKey: '' } } } });
    expect(moved.status, moved.text).toBe(200);
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it('hands the node the one credential its in-flight IssueCertificate needs', async () => {
    expect(await ask('n1', 'shop', 'shop-1', 'tlsPrivateKey')).toEqual({ ok: true, response: { value: KEY } });
    expect(await ask('n1', 'dns', 'dns-1', 'dnsApiToken')).toEqual({ ok: true, response: { value: TOKEN } });
  });

  it("hands the node a site's git token for its in-flight deploy of an https repository, and for nothing else", async () => {
    expect(await ask('n1', 'repo', 'repo-1', 'gitToken')).toEqual({ ok: true, response: { value: TOKEN } });
    expectCode(await ask('n2', 'repo', 'repo-1', 'gitToken'), 'PERMISSION_DENIED', 'command repo-1 is not for node n2');
    expectCode(await ask('n1', 'repo', 'repo-2', 'gitToken'), 'PERMISSION_DENIED', 'command repo-2 is FAILED, no longer in flight');
    expectCode(await ask('n1', 'repo', 'repo-3', 'gitToken'), 'PERMISSION_DENIED', 'command repo-3 is a BackupSite, not a ProvisionSite, DeploySite or CloneSite');
    expectCode(await ask('n1', 'shop', 'shop-3', 'gitToken'), 'PERMISSION_DENIED', 'command shop-3 needs no site credential, not gitToken');
  });

  it('refuses another node, another site, another field, a finished command and another operation (PERMISSION_DENIED)', async () => {
    expectCode(await ask('n2', 'shop', 'shop-1', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command shop-1 is not for node n2');
    expectCode(await ask('n1', 'dns', 'shop-1', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command shop-1 is not for site dns');
    expectCode(await ask('n1', 'dns', 'dns-1', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command dns-1 needs only dnsApiToken, not tlsPrivateKey');
    expectCode(await ask('n1', 'plain', 'plain-1', 'dnsApiToken'), 'PERMISSION_DENIED', 'command plain-1 needs no site credential');
    expectCode(await ask('n1', 'shop', 'shop-2', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command shop-2 is SUCCEEDED, no longer in flight');
    expectCode(await ask('n1', 'shop', 'shop-3', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command shop-3 is a DeploySite, not an IssueCertificate');
    expectCode(await ask('n1', 'shop', 'shop-99', 'tlsPrivateKey'), 'PERMISSION_DENIED', 'command shop-99 does not exist');
  });

  it('answers NOT_FOUND for a site that is gone or a credential no longer stored, INVALID_ARGUMENT for an unknown field', async () => {
    expectCode(await ask('n1', 'gone', 'gone-1', 'tlsPrivateKey'), 'NOT_FOUND', 'site gone does not exist');
    expectCode(await ask('n1', 'moved', 'moved-1', 'tlsPrivateKey'), 'NOT_FOUND', 'site moved has no tlsPrivateKey stored');
    expectCode(await ask('n1', 'shop', 'shop-1', 'password'), 'INVALID_ARGUMENT', 'field: must be one of tlsPrivateKey, dnsApiToken');
    expectCode(await ask('n1', '../etc', 'shop-1', 'tlsPrivateKey'), 'INVALID_ARGUMENT', 'site: must be a resource name');
  });

  it('refuses a caller without a node certificate', async () => {
    expectCode(await ask('nobody', 'shop', 'shop-1', 'tlsPrivateKey'), 'UNAUTHENTICATED', 'requires the node');
  });
});
