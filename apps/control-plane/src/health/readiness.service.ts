import { Inject, Injectable } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { NatsClient } from '../infra/nats.client.js';
import { CONFIG } from '../infra/tokens.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly error?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: { readonly postgres: CheckResult; readonly jetstream: CheckResult };
}

/** Ready means: PostgreSQL answers a query and JetStream answers an account-info request. */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async check(): Promise<Readiness> {
    const [postgres, jetstream] = await Promise.all([this.checkPostgres(), this.checkJetStream()]);
    return { ready: postgres.ok && jetstream.ok, checks: { postgres, jetstream } };
  }

  private checkPostgres(): Promise<CheckResult> {
    return this.probe(async () => {
      await this.dataSource.query('SELECT 1');
    });
  }

  private checkJetStream(): Promise<CheckResult> {
    return this.probe(async () => {
      const connection = this.nats.connection();
      if (!connection || connection.isClosed()) throw new Error('not connected');
      const manager = await jetstreamManager(connection, { timeout: this.config.readyTimeoutMs });
      await manager.getAccountInfo();
    });
  }

  private async probe(run: () => Promise<void>): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.config.readyTimeoutMs} ms`)), this.config.readyTimeoutMs);
    });
    try {
      await Promise.race([run(), timeout]);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
