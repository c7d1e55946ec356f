import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, FenceStore } from '@pressluft/agent-runtime';
import { ConfigError, createLogger, type Logger } from '@pressluft/platform';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { enroll, renewIfDue } from './enroll/enroll.js';
import { loadIdentity, type NodeIdentity } from './enroll/identity.js';
import { SiteSecretAccessClient } from './enroll/site-secret-access.js';
import { StoreAccessClient } from './enroll/store-access.js';
import { SiteHost } from './host/site-host.js';

/** Reported in heartbeats (Node status.agentVersion: a semantic version). */
export const AGENT_VERSION = '0.1.0';
const RENEW_CHECK_MS = 3600_000;

function readSecretFile(path: string, what: string): string {
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (value) return value;
  } catch (error) {
    throw new Error(`cannot read the ${what} at ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  throw new Error(`the ${what} at ${path} is empty`);
}

/** The stored identity, or a first enrollment with the join token (one-time) and the pinned CA. */
async function identityFor(config: AgentConfig, logger: Logger): Promise<NodeIdentity> {
  const stored = loadIdentity(config.stateDir);
  if (stored) {
    if (stored.node !== config.node) throw new Error(`${config.stateDir} holds the identity of node ${stored.node}, not ${config.node}`);
    // A certificate due for renewal (near its end, or without a bus identity) is replaced before
    // the bus is dialled; when the control plane cannot be reached, the hourly check retries.
    return renewIfDue(stored, config.enrollment.endpoint, new Date()).then(
      (result) => {
        if (result.renewed) logger.info({ expiresAt: result.identity.expiresAt }, 'client certificate renewed at start');
        return result.identity;
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'certificate renewal at start failed; retrying later');
        return stored;
      },
    );
  }
  logger.info({ node: config.node, endpoint: config.enrollment.endpoint }, 'enrolling with the control plane');
  const identity = await enroll({
    endpoint: config.enrollment.endpoint,
    caPem: readSecretFile(config.enrollment.caFile, 'control plane CA certificate'),
    joinToken: readSecretFile(config.enrollment.joinTokenFile, 'join token'),
    node: config.node,
    stateDir: config.stateDir,
    agentVersion: AGENT_VERSION,
  });
  logger.info({ node: identity.node, expiresAt: identity.expiresAt }, 'enrolled: client certificate issued');
  return identity;
}

async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadAgentConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pressluft-agent: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ name: 'pressluft-agent', level: config.logLevel });
  let identity = await identityFor(config, logger);
  const host = new SiteHost(config.host, logger);
  await host.applyFirewall();
  const fences = new FenceStore(join(config.stateDir, 'fences'));
  const agentFor = (id: NodeIdentity) =>
    new Agent({
      node: id.node,
      version: AGENT_VERSION,
      bus: { ...id.nats, tls: { cert: id.certificatePem, key: id.keyPem, ca: id.caPem } },
      host,
      fences,
      logger,
      heartbeatMs: config.heartbeatMs,
      reportMs: config.reportMs,
      superviseMs: config.superviseMs,
      probeMs: config.probeMs,
      cronMs: config.cronMs,
      concurrency: config.concurrency,
      commandDeadlineMs: config.commandDeadlineMs,
      stores: new StoreAccessClient(id, config.enrollment.endpoint),
      siteSecrets: new SiteSecretAccessClient(id, config.enrollment.endpoint),
      publicAddresses: config.host.publicAddresses ?? [],
    });
  let agent = agentFor(identity);
  await agent.start();
  logger.info({ node: identity.node }, 'agent running');

  // Renewal over mutual TLS before expiry; the bus connection is re-made with the new certificate.
  let renewing = Promise.resolve();
  const renewTimer = setInterval(() => {
    renewing = renewing
      .then(async () => {
        const result = await renewIfDue(identity, config.enrollment.endpoint, new Date());
        if (!result.renewed) return;
        identity = result.identity;
        logger.info({ expiresAt: identity.expiresAt }, 'client certificate renewed');
        await agent.stop();
        agent = agentFor(identity);
        await agent.start();
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'certificate renewal failed; retrying later'));
  }, RENEW_CHECK_MS);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'agent stopping');
    clearInterval(renewTimer);
    void renewing
      .then(() => agent.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'agent stop failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`pressluft-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
