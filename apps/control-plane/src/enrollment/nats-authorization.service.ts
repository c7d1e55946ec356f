import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MAX_COMMAND_DELIVERIES } from '@pressluft/domain';
import { certificateCommonName, ensureStreams, type Logger } from '@pressluft/platform';
import type { EntityManager } from 'typeorm';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';
import { CONTROL_PLANE_NATS_CN } from '../pki/pki.store.js';
import { enrolledCertificates, lockNatsAuthorization, removeEnrollmentsOfDeletedNodes } from './enrollment.repository.js';
import { applyNatsAuthorization } from './nats-authz.file.js';
import { natsUserForCommonName, nodeBus, renderNatsAuthorization } from './nats-authz.js';

const NANOS_PER_MS = 1_000_000;
/** How long a command may run between the agent's acks or progress signals (working()). */
export const NODE_ACK_WAIT_MS = 30_000;
/**
 * JetStream's own bound on deliveries of one command, a backstop: the agent gives a command up
 * (PoisonCommand, published) well before it, after MAX_COMMAND_DELIVERIES. Past this, only the
 * stall detector hears of the command.
 */
export const NODE_MAX_DELIVER = 2 * MAX_COMMAND_DELIVERIES;

/** The control plane's NATS users: the self-issued certificate's, and the configured certificate's. */
export function controlPlaneNatsUsers(config: Pick<ControlPlaneConfig, 'natsTls'>): string[] {
  const users = [natsUserForCommonName(CONTROL_PLANE_NATS_CN)];
  const tls = config.natsTls;
  if (tls !== undefined && tls !== 'self-issued') {
    const commonName = certificateCommonName(readFileSync(tls.certFile, 'utf8'));
    if (commonName) users.push(natsUserForCommonName(commonName));
  }
  return [...new Set(users)];
}

/** Creates a node's durable pull consumer on the command stream if it does not exist (idempotent). */
export async function ensureNodeConsumer(nc: NatsConnection, node: string): Promise<void> {
  const bus = nodeBus(node);
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  try {
    await jsm.consumers.info(bus.stream, bus.durable);
    return;
  } catch {
    // Missing consumer (or stream): create below.
  }
  await ensureStreams(nc);
  await jsm.consumers.add(bus.stream, {
    durable_name: bus.durable,
    filter_subject: bus.commandSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: NODE_ACK_WAIT_MS * NANOS_PER_MS,
    max_deliver: NODE_MAX_DELIVER,
  });
}

/**
 * The nats-server authorization for the enrolled nodes (PostgreSQL is the truth): rendered from
 * node_enrollments and written to PRESSLUFT_NATS_AUTHZ_FILE, then nats-server reloads
 * (PRESSLUFT_NATS_PID_FILE). A reload closes the connections of certificates that are no user
 * any more, so a superseded or revoked certificate is cut off at once. Without the file setting,
 * authorization is managed elsewhere and only the enrollments of deleted Nodes are removed.
 */
@Injectable()
export class NatsAuthorization {
  private users: string[] | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get managed(): boolean {
    return this.config.enrollment.natsAuthzFile !== undefined;
  }

  /**
   * Inside a transaction: waits for other writers (an advisory lock held to commit, so a
   * concurrent enrollment's node is seen once it commits), removes the enrollments of deleted
   * Nodes, reads the enrolled certificates as this transaction sees them and applies the file.
   * Throws when the file cannot be written or nats-server cannot be signalled, so an enrollment
   * fails instead of handing out a certificate NATS does not accept.
   */
  async sync(manager: EntityManager): Promise<void> {
    await lockNatsAuthorization(manager);
    const revoked = await removeEnrollmentsOfDeletedNodes(manager);
    if (revoked.length > 0) this.logger.info({ nodes: revoked }, 'node certificates revoked: their Nodes were deleted');
    const file = this.config.enrollment.natsAuthzFile;
    if (!file) return;
    const nodes = await enrolledCertificates(manager);
    this.users ??= controlPlaneNatsUsers(this.config);
    const content = renderNatsAuthorization({ controlPlaneUsers: this.users, nodes });
    if (applyNatsAuthorization(file, content, this.config.enrollment.natsPidFile)) {
      this.logger.info({ file, nodes: nodes.length, reloaded: this.config.enrollment.natsPidFile !== undefined }, 'NATS authorization written');
    }
  }
}
