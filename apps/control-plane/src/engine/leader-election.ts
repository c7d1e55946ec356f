import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { ResourceStore, type ResourceTransaction } from '../resources/resource.store.js';
import { createLease, holdsLease, releaseLease, renewOrTakeLease, type LeaseClaim } from './lease.repository.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';

export const CONTROLLER_LEASE = 'controller';

/** Raised inside a leader-only transaction when this replica no longer holds the lease. */
export class DeposedError extends Error {
  constructor(epoch: string | undefined) {
    super(`not the leader (epoch ${epoch ?? 'none'}): the write is refused`);
    this.name = 'DeposedError';
  }
}

type Listener = (leading: boolean) => void;

/**
 * Leader election on a PostgreSQL lease row (times from the database clock, so replicas need
 * not agree on theirs). The holder renews every renewMs; a standby takes over once the lease
 * expires, with epoch + 1. Every leader-only write runs in `transaction(work)`, which first
 * fences: it share-locks the lease row and fails unless this replica still holds it at
 * its epoch, so a deposed leader (paused past its lease, say) cannot write.
 */
@Injectable()
export class LeaderElection implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly identity = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly lease: LeaseClaim = { name: CONTROLLER_LEASE, holder: this.identity };
  private epoch: string | undefined;
  private lastRenewal = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Listener[] = [];
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: ResourceStore,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get leading(): boolean {
    return this.epoch !== undefined && Date.now() - this.lastRenewal < this.config.engine.leaseTtlMs;
  }

  get currentEpoch(): string | undefined {
    return this.leading ? this.epoch : undefined;
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    if (!this.config.engine.enabled) return;
    void this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.epoch !== undefined) {
      const epoch = this.epoch;
      this.setLeading(undefined);
      // Hand over at once instead of making the standby wait for the expiry.
      await releaseLease(this.dataSource, this.lease, epoch).catch(() => undefined);
    }
  }

  /** A leader-only transaction: `work` runs only after the fence, in the same transaction. */
  transaction<T>(work: (tx: ResourceTransaction) => Promise<T>): Promise<T> {
    return this.store.transaction(async (tx) => {
      await this.fence(tx.manager);
      return work(tx);
    });
  }

  /** Refuses the transaction's writes unless we hold the lease at our epoch (share-locks the lease row to commit). */
  private async fence(manager: EntityManager): Promise<void> {
    const epoch = this.currentEpoch;
    if (epoch === undefined) throw new DeposedError(this.epoch);
    if (!(await holdsLease(manager, this.lease, epoch))) throw new DeposedError(epoch);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    try {
      const epoch = await this.acquire();
      if (epoch !== undefined) this.lastRenewal = started;
      this.setLeading(epoch);
    } catch (error) {
      this.logger.warn({ err: error }, 'lease renewal failed');
      if (!this.leading) this.setLeading(undefined);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.config.engine.leaseRenewMs);
  }

  /** Takes or renews the lease; the epoch we hold, or undefined when another replica does. */
  private async acquire(): Promise<string | undefined> {
    const ttl = `${this.config.engine.leaseTtlMs} milliseconds`;
    return (await renewOrTakeLease(this.dataSource, this.lease, ttl)) ?? createLease(this.dataSource, this.lease, ttl);
  }

  private setLeading(epoch: string | undefined): void {
    const was = this.epoch;
    this.epoch = epoch;
    if ((was === undefined) === (epoch === undefined) && was === epoch) return;
    if (epoch !== undefined && was === undefined) this.logger.info({ epoch, identity: this.identity }, 'leader: this replica now runs the loops');
    if (epoch === undefined && was !== undefined) this.logger.warn({ epoch: was, identity: this.identity }, 'leader: lease lost; loops stopped');
    if ((was === undefined) !== (epoch === undefined)) for (const listener of this.listeners) listener(epoch !== undefined);
  }
}
