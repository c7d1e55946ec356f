/**
 * Versions become visible in order without a global lock (docs/architecture.md, "State store"):
 * every write transaction, before it draws its first resourceVersion, takes a shared advisory
 * lock whose key encodes a floor (the sequence's value at that moment; every version it draws is
 * above it) and holds it to commit or rollback (PostgreSQL drops it also when the session dies).
 * Readers of the change log only consume versions up to the watermark: the lower of the
 * sequence's last value (read first) and the lowest floor still locked (read second). A version
 * at or below it was drawn before the first read by a transaction that had its floor lock then,
 * and is no longer locked, so it committed (and is visible to any later snapshot: PostgreSQL
 * releases locks after a commit becomes visible) or rolled back (a gap).
 *
 * Keys use the two-int4 form: classid = FLOOR_LOCK_BASE + the floor's high 32 bits, objid = its
 * low 32 bits. Shared locks never wait for each other, so writers do not serialise on them.
 */
export const FLOOR_LOCK_BASE = 1_347_420_160; // 0x50500000; up to 2^48 versions
/**
 * Every version of one object is drawn while holding this per-object lock (to commit), so an
 * object's versions commit in version order (a later version is always the newer state).
 */
export const OBJECT_LOCK_CLASS = 1_347_354_624; // 0x504F0000

/** The floor lock, then nothing else: `$floor` is the sequence's value, every later draw is above it. */
export const FLOOR_LOCK_SQL = `SELECT pg_advisory_xact_lock_shared((${FLOOR_LOCK_BASE} + (s.f >> 32))::int, s.f::bit(32)::int) AS held
  FROM o, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS f FROM resource_version_seq) AS s`;

/**
 * The watermark: every version at or below it that will ever commit has committed. The sequence
 * is read first (the correlated subquery over pg_locks runs per row of the materialised CTE).
 */
export const WATERMARK_SQL = `WITH s AS MATERIALIZED (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS l FROM resource_version_seq)
  SELECT least(s.l, (SELECT min((l.classid::bigint - ${FLOOR_LOCK_BASE}) * 4294967296 + l.objid::bigint) FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND s.l IS NOT NULL
       AND l.classid::bigint BETWEEN ${FLOOR_LOCK_BASE} AND ${FLOOR_LOCK_BASE + 65535}
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))::text AS w
  FROM s`;

/**
 * The newest committed resourceVersion at or below the watermark $1 (read in a snapshot taken
 * after it); never below the compaction point, should the compaction have emptied the log up to $1.
 */
export const LATEST_VERSION_SQL = `SELECT greatest(coalesce(max(resource_version), 0), (SELECT least(compacted_through, $1) FROM change_log_compaction))::text AS rv
  FROM resource_changes WHERE resource_version <= $1`;
