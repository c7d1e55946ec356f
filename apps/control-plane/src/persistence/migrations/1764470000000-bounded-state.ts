import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bounded state: the change log's compaction point (etcd's compact revision; a watch from below it
 * gets 410 Expired), the indexes the leader's pruning walks (a change's successor, ages), and the
 * audit log's count: one row may stand for many unauthenticated requests of a minute.
 */
export class BoundedState1764470000000 implements MigrationInterface {
  name = 'BoundedState1764470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "change_log_compaction" (
      "id" boolean NOT NULL DEFAULT true,
      "compacted_through" bigint NOT NULL,
      CONSTRAINT "change_log_compaction_one_row" CHECK ("id"),
      CONSTRAINT "PK_change_log_compaction" PRIMARY KEY ("id"))`);
    await q.query(`INSERT INTO "change_log_compaction" ("id", "compacted_through") VALUES (true, 0)`);
    await q.query(`CREATE INDEX "resource_changes_kind_name_resource_version" ON "resource_changes" ("kind", "name", "resource_version")`);
    await q.query(`ALTER TABLE "audit_log" ADD "count" integer NOT NULL DEFAULT 1`);
    await q.query(`CREATE INDEX "outbox_sent_at" ON "outbox" ("sent_at")`);
    await q.query(`CREATE INDEX "command_event_receipts_received_at" ON "command_event_receipts" ("received_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "command_event_receipts_received_at"`);
    await q.query(`DROP INDEX "outbox_sent_at"`);
    await q.query(`ALTER TABLE "audit_log" DROP COLUMN "count"`);
    await q.query(`DROP INDEX "resource_changes_kind_name_resource_version"`);
    await q.query(`DROP TABLE "change_log_compaction"`);
  }
}
