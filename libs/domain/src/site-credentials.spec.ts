import { describe, expect, it } from 'vitest';
import type { CommandSpec, CommandState } from './command.js';
import { issueCertificateCredential, mergeSiteCredentials, missingSiteCredential, siteSecretAccessRefusal, storedSiteCredentialFields, type StoredSiteCredentials } from './site-credentials.js';
import { siteTlsSchema, type SiteCredentials, type SiteSpec } from './site.js';

const KEY = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
const tls = (input: unknown): Pick<SiteSpec, 'tls'> => ({ tls: siteTlsSchema.parse(input) });
const custom = tls({ mode: 'custom', custom: { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } });
const dns01 = tls({ acme: { challenge: 'dns-01', dns: { provider: 'cloudflare' } } });
const http01 = tls({});
const off = tls({ mode: 'off' });

describe('mergeSiteCredentials', () => {
  it.each<[string, StoredSiteCredentials, SiteCredentials, StoredSiteCredentials]>([
    ['a field given is stored', {}, { tlsPrivateKey: KEY }, { tlsPrivateKey: KEY }],
    ['a field given replaces the stored one', { dnsApiToken: 'old-token' }, { dnsApiToken: 'new-token' }, { dnsApiToken: 'new-token' }],
    ['a field absent keeps the stored one', { dnsApiToken: 'old-token' }, { tlsPrivateKey: KEY }, { tlsPrivateKey: KEY, dnsApiToken: 'old-token' }],
    ['"" removes the stored one', { tlsPrivateKey: KEY, dnsApiToken: 'old-token' }, { dnsApiToken: '' }, { tlsPrivateKey: KEY }],
    ['"" for a field not stored changes nothing', {}, { tlsPrivateKey: '' }, {}],
    ['nothing given keeps everything', { tlsPrivateKey: KEY }, {}, { tlsPrivateKey: KEY }],
  ])('%s', (_case, stored, given, merged) => {
    expect(mergeSiteCredentials(stored, given)).toEqual(merged);
  });

  it('lists the stored fields in the schema order', () => {
    expect(storedSiteCredentialFields({ dnsApiToken: 't', tlsPrivateKey: KEY })).toEqual(['tlsPrivateKey', 'dnsApiToken']);
    expect(storedSiteCredentialFields({})).toEqual([]);
  });
});

describe('missingSiteCredential', () => {
  it.each<[string, Pick<SiteSpec, 'tls'>, Array<'tlsPrivateKey' | 'dnsApiToken'>, string | undefined]>([
    ['no spec.tls (acme by http-01) needs nothing', { tls: undefined }, [], undefined],
    ['http-01 needs nothing', http01, [], undefined],
    ['off needs nothing', off, [], undefined],
    ['custom with the key stored', custom, ['tlsPrivateKey'], undefined],
    ['custom without the key', custom, ['dnsApiToken'], 'spec.credentials.tlsPrivateKey'],
    ['dns-01 with the token stored', dns01, ['dnsApiToken'], undefined],
    ['dns-01 without the token', dns01, ['tlsPrivateKey'], 'spec.credentials.dnsApiToken'],
  ])('%s', (_case, spec, stored, field) => {
    expect(missingSiteCredential(spec, stored)?.field).toBe(field);
  });

  it('says why the field is required', () => {
    expect(missingSiteCredential(custom, [])?.message).toContain('spec.tls.mode is custom');
    expect(missingSiteCredential(dns01, [])?.message).toContain('spec.tls.acme.challenge is dns-01');
  });
});

describe('issueCertificateCredential', () => {
  it.each<[string, CommandSpec['certificate'], Pick<SiteSpec, 'tls'>, string | undefined]>([
    ['custom: the key', 'custom', custom, 'tlsPrivateKey'],
    ['acme by dns-01: the token', 'acme', dns01, 'dnsApiToken'],
    ['acme by http-01: none', 'acme', http01, undefined],
    ['remove: none', 'remove', dns01, undefined],
    ['no certificate action: none', undefined, custom, undefined],
  ])('%s', (_case, certificate, site, field) => {
    expect(issueCertificateCredential({ certificate }, site)).toBe(field);
  });
});

describe('siteSecretAccessRefusal', () => {
  const request = { node: 'n1', site: 'shop', command: 'shop-7', field: 'tlsPrivateKey' };
  const spec: CommandSpec = { site: 'shop', node: 'n1', fence: 7, operation: 'IssueCertificate', generation: 1, certificate: 'custom' };
  it.each<[string, typeof request, { spec: CommandSpec; state: CommandState } | undefined, Pick<SiteSpec, 'tls'> | undefined, string | undefined]>([
    ['a pending custom issuance asking for the key', request, { spec, state: 'PENDING' }, custom, undefined],
    ['a running custom issuance', request, { spec, state: 'RUNNING' }, custom, undefined],
    ['a dispatched dns-01 order asking for the token', { ...request, field: 'dnsApiToken' }, { spec: { ...spec, certificate: 'acme' }, state: 'DISPATCHED' }, dns01, undefined],
    ['no such command', request, undefined, custom, 'Forbidden: command shop-7 does not exist'],
    ["another node's command", request, { spec: { ...spec, node: 'n2' }, state: 'RUNNING' }, custom, 'Forbidden: command shop-7 is not for node n1'],
    ["another site's command", { ...request, site: 'blog' }, { spec, state: 'RUNNING' }, custom, 'Forbidden: command shop-7 is not for site blog'],
    ['a deploy', request, { spec: { ...spec, operation: 'DeploySite' }, state: 'RUNNING' }, custom, 'Forbidden: command shop-7 is a DeploySite, not an IssueCertificate'],
    ['a finished issuance', request, { spec, state: 'SUCCEEDED' }, custom, 'Forbidden: command shop-7 is SUCCEEDED, no longer in flight'],
    ['a stalled issuance', request, { spec, state: 'STALLED' }, custom, 'Forbidden: command shop-7 is STALLED, no longer in flight'],
    ['the site is gone', request, { spec, state: 'RUNNING' }, undefined, 'NotFound: site shop does not exist'],
    ['a custom issuance asking for the token', { ...request, field: 'dnsApiToken' }, { spec, state: 'RUNNING' }, custom, 'Forbidden: command shop-7 needs only tlsPrivateKey, not dnsApiToken'],
    ['an http-01 order asking for the token', { ...request, field: 'dnsApiToken' }, { spec: { ...spec, certificate: 'acme' }, state: 'RUNNING' }, http01, 'Forbidden: command shop-7 needs no site credential, not dnsApiToken'],
    ['a dns-01 order asking for the key', request, { spec: { ...spec, certificate: 'acme' }, state: 'RUNNING' }, dns01, 'Forbidden: command shop-7 needs only dnsApiToken, not tlsPrivateKey'],
    ['an unknown field', { ...request, field: 'password' }, { spec, state: 'RUNNING' }, custom, 'Forbidden: command shop-7 needs only tlsPrivateKey, not password'],
  ])('%s', (_case, req, command, site, refusal) => {
    const refused = siteSecretAccessRefusal(req, command, site);
    expect(refused && `${refused.reason}: ${refused.message}`).toBe(refusal);
  });
});

describe('siteSecretAccessRefusal: the git token', () => {
  const request = { node: 'n1', site: 'shop', command: 'shop-9', field: 'gitToken' };
  const deploy: CommandSpec = { site: 'shop', node: 'n1', fence: 9, operation: 'DeploySite', generation: 2 };
  const https = { ...http01, code: { git: { url: 'https://git.example.test/acme/shop.git', ref: 'main' } } };
  const ssh = { ...http01, code: { git: { url: 'git@git.example.test:acme/shop.git', ref: 'main', knownHosts: 'git.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA' } } };
  it.each<[string, typeof request, { spec: CommandSpec; state: CommandState } | undefined, Pick<SiteSpec, 'tls' | 'code'> | undefined, string | undefined]>([
    ['a running deploy of an https repository', request, { spec: deploy, state: 'RUNNING' }, https, undefined],
    ['a dispatched provision', request, { spec: { ...deploy, operation: 'ProvisionSite' }, state: 'DISPATCHED' }, https, undefined],
    ['a pending clone', request, { spec: { ...deploy, operation: 'CloneSite' }, state: 'PENDING' }, https, undefined],
    ['a finished deploy', request, { spec: deploy, state: 'SUCCEEDED' }, https, 'Forbidden: command shop-9 is SUCCEEDED, no longer in flight'],
    ['a failed deploy', request, { spec: deploy, state: 'FAILED' }, https, 'Forbidden: command shop-9 is FAILED, no longer in flight'],
    ["another node's deploy", request, { spec: { ...deploy, node: 'n2' }, state: 'RUNNING' }, https, 'Forbidden: command shop-9 is not for node n1'],
    ["another site's deploy", { ...request, site: 'blog' }, { spec: deploy, state: 'RUNNING' }, https, 'Forbidden: command shop-9 is not for site blog'],
    ['a backup', request, { spec: { ...deploy, operation: 'BackupSite' }, state: 'RUNNING' }, https, 'Forbidden: command shop-9 is a BackupSite, not a ProvisionSite, DeploySite or CloneSite'],
    ['a deploy of an ssh repository (the deploy key, no token)', request, { spec: deploy, state: 'RUNNING' }, ssh, 'Forbidden: command shop-9 needs no site credential, not gitToken'],
    ['a deploy without code', request, { spec: deploy, state: 'RUNNING' }, http01, 'Forbidden: command shop-9 needs no site credential, not gitToken'],
    ['a deploy asking for the TLS key', { ...request, field: 'tlsPrivateKey' }, { spec: deploy, state: 'RUNNING' }, https, 'Forbidden: command shop-9 is a DeploySite, not an IssueCertificate'],
    ['an issuance asking for the token of an https site', request, { spec: { ...deploy, operation: 'IssueCertificate' }, state: 'RUNNING' }, https, 'Forbidden: command shop-9 is an IssueCertificate, not a ProvisionSite, DeploySite or CloneSite'],
    ['the site is gone', request, { spec: deploy, state: 'RUNNING' }, undefined, 'NotFound: site shop does not exist'],
  ])('%s', (_case, req, command, site, refusal) => {
    const refused = siteSecretAccessRefusal(req, command, site);
    expect(refused && `${refused.reason}: ${refused.message}`).toBe(refusal);
  });
});
