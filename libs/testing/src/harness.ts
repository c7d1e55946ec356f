import { rmSync } from 'node:fs';
import { containerRuntimeAvailable } from './containers.js';
import { makeTempRoot } from './host.js';
import { MariaDbService } from './mariadb.js';
import { NatsService, type NatsOptions } from './nats.js';
import { PostgresService } from './postgres.js';
import { RedisService } from './redis.js';
import { NginxService, PhpFpmService } from './web.js';

export interface HarnessOptions {
  readonly postgres?: boolean;
  readonly nats?: boolean | NatsOptions;
  readonly mariadb?: boolean;
  readonly nginx?: boolean;
  readonly phpFpm?: boolean;
  readonly redis?: boolean;
}

type Stoppable = { stop(): Promise<void> };

/**
 * Throwaway real services for one test run, in one temp dir. Each service is started on a
 * free port, stopped by its PID, and `stop()` removes the directory: nothing is left behind.
 */
export class Harness {
  private readonly started: Stoppable[] = [];
  postgres: PostgresService | undefined;
  nats: NatsService | undefined;
  mariadb: MariaDbService | undefined;
  nginx: NginxService | undefined;
  phpFpm: PhpFpmService | undefined;
  redis: RedisService | undefined;

  private constructor(readonly root: string) {}

  static async start(options: HarnessOptions): Promise<Harness> {
    const harness = new Harness(makeTempRoot());
    try {
      // Containers only for services that share nothing with the host; TLS needs our own config.
      const containers = (options.postgres || options.nats === true) && (await containerRuntimeAvailable());
      if (options.postgres) {
        harness.postgres = harness.track(containers ? await PostgresService.inContainer() : await PostgresService.create(harness.root));
      }
      if (options.nats) {
        const natsOptions = typeof options.nats === 'object' ? options.nats : {};
        harness.nats = harness.track(
          containers && !natsOptions.tls ? await NatsService.inContainer() : await NatsService.create(harness.root, natsOptions),
        );
      }
      if (options.mariadb) harness.mariadb = harness.track(await MariaDbService.create(harness.root));
      if (options.phpFpm) harness.phpFpm = harness.track(await PhpFpmService.create(harness.root));
      if (options.redis) harness.redis = harness.track(await RedisService.create(harness.root));
      if (options.nginx) harness.nginx = harness.track(await NginxService.create(harness.root));
      return harness;
    } catch (error) {
      await harness.stop();
      throw error;
    }
  }

  private track<T extends Stoppable>(service: T): T {
    this.started.push(service);
    return service;
  }

  /** Stops every service (newest first) and removes the temp dir; safe to call twice. */
  async stop(): Promise<void> {
    const services = this.started.splice(0).reverse();
    const results = await Promise.allSettled(services.map((s) => s.stop()));
    rmSync(this.root, { recursive: true, force: true });
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
