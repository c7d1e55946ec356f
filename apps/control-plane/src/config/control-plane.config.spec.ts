import { ConfigError } from '@pressluft/platform';
import { describe, expect, it } from 'vitest';
import { natsTlsOptions } from '../infra/nats.client.js';
import { loadControlPlaneConfig } from './control-plane.config.js';

describe('control plane settings for enrollment and NATS TLS', () => {
  it('defaults: gRPC on 8444 beside the HTTP host, plain NATS without TLS, agents told the same URL, authorization managed elsewhere', () => {
    const config = loadControlPlaneConfig({});
    expect(config.enrollment).toEqual({ grpc: { host: '127.0.0.1', port: 8444 }, natsAgentUrl: 'nats://127.0.0.1:54222', natsAuthzFile: undefined, natsPidFile: undefined });
    expect(config.natsTls).toBeUndefined();
    expect(config.pkiDir).toBe('/var/lib/pressluft/pki');
  });

  it('turns gRPC off, moves it, and tells agents another NATS URL', () => {
    expect(loadControlPlaneConfig({ PRESSLUFT_GRPC_PORT: 'off' }).enrollment.grpc).toBeUndefined();
    const config = loadControlPlaneConfig({ PRESSLUFT_GRPC_HOST: '0.0.0.0', PRESSLUFT_GRPC_PORT: '9444', PRESSLUFT_NATS_AGENT_URL: 'tls://nats.example.test:4222' });
    expect(config.enrollment.grpc).toEqual({ host: '0.0.0.0', port: 9444 });
    expect(config.enrollment.natsAgentUrl).toBe('tls://nats.example.test:4222');
  });

  it('retention: the audit log 90 days, Events 1 h, the change log 15 min, finished commands 30 days by default; each a setting', () => {
    const day = 24 * 3_600_000;
    expect(loadControlPlaneConfig({}).retention).toEqual({ changeLogMs: 15 * 60_000, eventsMs: 3_600_000, auditMs: 90 * day, outboxSentMs: day, receiptsMs: 8 * day, commandsMs: 30 * day, runsMs: 30 * day });
    const set = loadControlPlaneConfig({ PRESSLUFT_AUDIT_RETENTION_DAYS: '30', PRESSLUFT_COMMAND_RETENTION_DAYS: '7', PRESSLUFT_EVENT_TTL_MS: '600000', PRESSLUFT_CHANGE_LOG_RETENTION_MS: '60000', PRESSLUFT_PRUNE_EVERY_MS: '5000' });
    expect(set.retention).toMatchObject({ auditMs: 30 * day, commandsMs: 7 * day, eventsMs: 600_000, changeLogMs: 60_000 });
    expect(set.engine.pruneEveryMs).toBe(5000);
  });

  it('backup stores: the secrets key beside the PKI directory unless set; a default repository only when set, an absolute path', () => {
    expect(loadControlPlaneConfig({})).toMatchObject({ secretsKeyFile: '/var/lib/pressluft/secrets.key', defaultBackupRepository: undefined });
    expect(loadControlPlaneConfig({ PRESSLUFT_PKI_DIR: '/srv/pl/pki' }).secretsKeyFile).toBe('/srv/pl/secrets.key');
    const set = loadControlPlaneConfig({ PRESSLUFT_SECRETS_KEY_FILE: '/etc/pressluft/secrets.key', PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: '/srv/backups/default' });
    expect(set).toMatchObject({ secretsKeyFile: '/etc/pressluft/secrets.key', defaultBackupRepository: '/srv/backups/default' });
    for (const bad of ['backups', '/srv/../etc', '/srv/back ups']) {
      expect(() => loadControlPlaneConfig({ PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: bad })).toThrow(ConfigError);
    }
    expect(() => loadControlPlaneConfig({ PRESSLUFT_SECRETS_KEY_FILE: 'secrets.key' })).toThrow(ConfigError);
  });

  it('DNS readiness: the system resolvers by default, a list of servers, or off', () => {
    expect(loadControlPlaneConfig({}).dns).toEqual({ servers: [] });
    expect(loadControlPlaneConfig({ PRESSLUFT_DNS_SERVERS: '127.0.0.1:5353,9.9.9.9,[2606:4700::1111]:53' }).dns).toEqual({ servers: ['127.0.0.1:5353', '9.9.9.9', '[2606:4700::1111]:53'] });
    expect(loadControlPlaneConfig({ PRESSLUFT_DNS_SERVERS: 'none' }).dns).toBeUndefined();
    for (const bad of ['dns.example.test', '1.1.1.1,', '2606:4700::1111', 'system']) expect(() => loadControlPlaneConfig({ PRESSLUFT_DNS_SERVERS: bad })).toThrow(/PRESSLUFT_DNS_SERVERS/);
  });

  it('backup retention: every hour by default, restic cached under /var/cache; each a setting', () => {
    expect(loadControlPlaneConfig({}).backups).toEqual({ retentionEveryMs: 3_600_000, resticCacheDir: '/var/cache/pressluft/restic' });
    expect(loadControlPlaneConfig({ PRESSLUFT_BACKUP_RETENTION_EVERY_MS: '60000', PRESSLUFT_RESTIC_CACHE_DIR: '/srv/cache' }).backups).toEqual({ retentionEveryMs: 60_000, resticCacheDir: '/srv/cache' });
    expect(() => loadControlPlaneConfig({ PRESSLUFT_RESTIC_CACHE_DIR: 'relative' })).toThrow(/PRESSLUFT_RESTIC_CACHE_DIR/);
  });

  it('issues its own NATS client certificate for a tls:// URL without files', () => {
    const config = loadControlPlaneConfig({ PRESSLUFT_NATS_URL: 'tls://127.0.0.1:4222' });
    expect(config.natsTls).toBe('self-issued');
  });

  it('uses the three certificate files when they are set', async () => {
    const config = loadControlPlaneConfig({ PRESSLUFT_NATS_URL: 'tls://n:4222', PRESSLUFT_NATS_TLS_CERT: '/c.pem', PRESSLUFT_NATS_TLS_KEY: '/k.pem', PRESSLUFT_NATS_TLS_CA: '/ca.pem' });
    expect(config.natsTls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem', caFile: '/ca.pem' });
    expect(await natsTlsOptions(config, new Date())).toEqual({ certFile: '/c.pem', keyFile: '/k.pem', caFile: '/ca.pem' });
    expect(await natsTlsOptions(loadControlPlaneConfig({}), new Date())).toBeUndefined();
  });

  it.each([
    [{ PRESSLUFT_NATS_TLS_CERT: '/c.pem' }, 'PRESSLUFT_NATS_TLS_CERT'],
    [{ PRESSLUFT_NATS_TLS_KEY: 'relative.pem' }, 'PRESSLUFT_NATS_TLS_KEY'],
    [{ PRESSLUFT_NATS_AUTHZ_FILE: 'authz.conf' }, 'PRESSLUFT_NATS_AUTHZ_FILE'],
    [{ PRESSLUFT_NATS_PID_FILE: 'nats.pid' }, 'PRESSLUFT_NATS_PID_FILE'],
    [{ PRESSLUFT_GRPC_PORT: '70000' }, 'PRESSLUFT_GRPC_PORT'],
    [{ PRESSLUFT_GRPC_HOST: 'localhost' }, 'PRESSLUFT_GRPC_HOST'],
    [{ PRESSLUFT_NATS_AGENT_URL: 'http://nats:4222' }, 'PRESSLUFT_NATS_AGENT_URL'],
    [{ PRESSLUFT_AUDIT_RETENTION_DAYS: '0' }, 'PRESSLUFT_AUDIT_RETENTION_DAYS'],
    [{ PRESSLUFT_EVENT_TTL_MS: '1.5' }, 'PRESSLUFT_EVENT_TTL_MS'],
    [{ PRESSLUFT_CHANGE_LOG_RETENTION_MS: '10' }, 'PRESSLUFT_CHANGE_LOG_RETENTION_MS'],
  ])('refuses %j naming %s', (env, setting) => {
    let error: unknown;
    try {
      loadControlPlaneConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
  });
});

describe('control plane setting for local git repositories', () => {
  it.each([
    [{}, false],
    [{ PRESSLUFT_GIT_ALLOW_LOCAL: 'true' }, true],
    [{ PRESSLUFT_GIT_ALLOW_LOCAL: 'false' }, false],
  ])('%j -> allowLocal %s', (env, allowLocal) => {
    expect(loadControlPlaneConfig(env).git).toEqual({ allowLocal });
  });

  it('refuses a value that is not a boolean, naming the setting', () => {
    expect(() => loadControlPlaneConfig({ PRESSLUFT_GIT_ALLOW_LOCAL: 'yes' })).toThrow(/PRESSLUFT_GIT_ALLOW_LOCAL/);
  });
});

describe('certificate settings', () => {
  it("defaults: Let's Encrypt without a contact, sites' HTTPS on 443", () => {
    expect(loadControlPlaneConfig({}).certificates).toEqual({ acme: { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', email: undefined }, sitesHttpsPort: 443 });
  });

  it('takes another directory, a contact and a port; `none` turns ACME off', () => {
    expect(loadControlPlaneConfig({ PRESSLUFT_ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir', PRESSLUFT_ACME_EMAIL: 'ops@example.test', PRESSLUFT_SITES_HTTPS_PORT: '8082' }).certificates).toEqual({
      acme: { directoryUrl: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' },
      sitesHttpsPort: 8082,
    });
    expect(loadControlPlaneConfig({ PRESSLUFT_ACME_DIRECTORY_URL: 'none' }).certificates.acme).toBeUndefined();
  });

  it.each([
    ['PRESSLUFT_ACME_DIRECTORY_URL', 'http://acme.example.test/dir'],
    ['PRESSLUFT_ACME_DIRECTORY_URL', 'off'],
    ['PRESSLUFT_ACME_EMAIL', 'not an email'],
    ['PRESSLUFT_SITES_HTTPS_PORT', '0'],
    ['PRESSLUFT_SITES_HTTPS_PORT', '70000'],
  ])('refuses %s=%s', (key, value) => {
    expect(() => loadControlPlaneConfig({ [key]: value })).toThrow(key);
  });
});
