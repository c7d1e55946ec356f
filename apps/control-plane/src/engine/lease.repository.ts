import type { DataSource, EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/** A lease (table leases, times from the database's clock) and the replica that claims it. */
export interface LeaseClaim {
  readonly name: string;
  readonly holder: string;
}

/** Renews our lease or takes an expired one (epoch + 1); the epoch we hold, or undefined when another holder does. */
export async function renewOrTakeLease(db: DataSource, lease: LeaseClaim, ttl: string): Promise<string | undefined> {
  const renewed = await db.query<[Array<{ epoch: string }>, number]>(
    `UPDATE leases
          SET epoch = CASE WHEN holder = $2 AND expires_at > now() THEN epoch ELSE epoch + 1 END,
              holder = $2, renewed_at = now(), expires_at = now() + $3::interval
        WHERE name = $1 AND (holder = $2 OR expires_at <= now())
        RETURNING epoch::text AS epoch`,
    [lease.name, lease.holder, ttl],
  );
  return renewed[0]?.[0]?.epoch;
}

/** Creates the lease at epoch 1 when nobody has ever held it; undefined when the row exists. */
export async function createLease(db: DataSource, lease: LeaseClaim, ttl: string): Promise<string | undefined> {
  const inserted = await db.query<Array<{ epoch: string }>>(
    `INSERT INTO leases (name, holder, epoch, renewed_at, expires_at) VALUES ($1, $2, 1, now(), now() + $3::interval)
       ON CONFLICT (name) DO NOTHING RETURNING epoch::text AS epoch`,
    [lease.name, lease.holder, ttl],
  );
  return inserted[0]?.epoch;
}

/** Lets the lease expire now (a clean hand-over instead of the standby waiting out the TTL). */
export async function releaseLease(db: DataSource, lease: LeaseClaim, epoch: string): Promise<void> {
  await db.query(`UPDATE leases SET expires_at = now() WHERE name = $1 AND holder = $2 AND epoch = $3`, [lease.name, lease.holder, epoch]);
}

/** In the caller's transaction: whether we still hold the lease at `epoch`; share-locks the row to commit. */
export async function holdsLease(manager: EntityManager, lease: LeaseClaim, epoch: string): Promise<boolean> {
  const rows = await queryPrepared<unknown[]>(
    manager,
    `SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now() FOR SHARE`,
    [lease.name, lease.holder, epoch],
  );
  return rows.length > 0;
}
