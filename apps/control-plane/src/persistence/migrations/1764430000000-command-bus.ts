import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CommandBus1764430000000 implements MigrationInterface {
  name = 'CommandBus1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "outbox" (
      "id" BIGSERIAL NOT NULL,
      "command" text NOT NULL,
      "subject" text NOT NULL,
      "payload" bytea NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "sent_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "UQ_outbox_command" UNIQUE ("command"),
      CONSTRAINT "PK_outbox" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "outbox_unsent" ON "outbox" ("id") WHERE "sent_at" IS NULL`);
    await q.query(`CREATE INDEX "resources_command_site_fence" ON "resources" ((spec ->> 'site'), ((spec ->> 'fence')::bigint)) WHERE kind = 'Command'`);
    await q.query(`CREATE TABLE "command_event_receipts" (
      "command" text NOT NULL,
      "sequence" bigint NOT NULL,
      "received_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "PK_command_event_receipts" PRIMARY KEY ("command", "sequence"))`);
    await q.query(`CREATE TABLE "leases" (
      "name" text NOT NULL,
      "holder" text NOT NULL,
      "epoch" bigint NOT NULL,
      "renewed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "PK_leases" PRIMARY KEY ("name"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "leases"`);
    await q.query(`DROP TABLE "command_event_receipts"`);
    await q.query(`DROP TABLE "outbox"`);
    await q.query(`DROP INDEX "resources_command_site_fence"`);
  }
}
