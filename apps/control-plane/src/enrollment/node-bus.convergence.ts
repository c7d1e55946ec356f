import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { DataSource } from 'typeorm';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { LeaderElection } from '../engine/leader-election.js';
import { NatsClient } from '../infra/nats.client.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';
import { WatchHub } from '../resources/watch.hub.js';
import { enrolledNodes, enrollmentsOfDeletedNodesExist } from './enrollment.repository.js';
import { ensureNodeConsumer, NatsAuthorization } from './nats-authorization.service.js';

const RETRY_MS = 1000;
/** The revocation check also runs this often while leading: a notification lost to a writer's crash delays it no longer. */
const RECHECK_MS = 60_000;

/**
 * Restarts converge: when this replica becomes the leader (or at boot when the engine is off),
 * the NATS authorization file is regenerated from the enrolled nodes in PostgreSQL, and every
 * enrolled node's durable consumer is created again if JetStream lost it. While it leads, a
 * deleted Node's certificates are revoked as soon as the deletion commits (each committed change
 * of Nodes is checked for enrollments without their Node; NatsAuthorization.sync removes them).
 * Changes of other kinds cost no query (under load that check was one statement every few writes);
 * a timer checks every RECHECK_MS besides.
 */
@Injectable()
export class NodeBusConvergence implements OnApplicationBootstrap, OnApplicationShutdown {
  private generation = 0;
  private running: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private recheck: NodeJS.Timeout | undefined;
  /** The revocation pass: one at a time, and once more when changes came in meanwhile. */
  private revoking: Promise<void> | undefined;
  private changed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly authz: NatsAuthorization,
    private readonly nats: NatsClient,
    private readonly leader: LeaderElection,
    private readonly hub: WatchHub,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.engine.enabled) {
      this.start();
      return;
    }
    this.leader.onChange((leading) => (leading ? this.start() : this.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop();
    await Promise.all([this.running, this.revoking]);
  }

  private start(): void {
    const generation = ++this.generation;
    this.running = this.running.then(() => this.converge(generation));
    this.unsubscribe ??= this.hub.subscribe((kinds) => {
      if (!kinds || kinds.has('Node')) this.revokeDeletedNodes();
    });
    this.recheck ??= setInterval(() => this.revokeDeletedNodes(), RECHECK_MS).unref();
  }

  private stop(): void {
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.recheck);
    this.recheck = undefined;
  }

  private revokeDeletedNodes(): void {
    this.changed = true;
    this.revoking ??= (async () => {
      while (this.changed && this.unsubscribe) {
        this.changed = false;
        try {
          if (await enrollmentsOfDeletedNodesExist(this.dataSource)) await this.dataSource.transaction((manager) => this.authz.sync(manager));
        } catch (error) {
          this.logger.warn({ err: error }, 'the certificates of deleted nodes could not be revoked yet; retrying on the next change or at leader start');
        }
      }
      this.revoking = undefined;
    })();
  }

  private async converge(generation: number): Promise<void> {
    const current = () => generation === this.generation;
    while (current()) {
      try {
        await this.dataSource.transaction((manager) => this.authz.sync(manager));
        break;
      } catch (error) {
        this.logger.warn({ err: error }, 'NATS authorization could not be regenerated; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    let pending: string[] | undefined;
    while (current()) {
      const connection = this.nats.connection();
      if (connection && !connection.isClosed()) {
        try {
          pending ??= await enrolledNodes(this.dataSource);
          while (pending.length > 0 && current()) {
            await ensureNodeConsumer(connection, pending[0] ?? '');
            pending.shift();
          }
          if (pending.length === 0) return;
        } catch (error) {
          this.logger.warn({ err: error }, 'node consumers could not be ensured yet; retrying');
        }
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
