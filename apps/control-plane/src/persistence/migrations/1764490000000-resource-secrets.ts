import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Encrypted write-only fields of resources (BackupStore credentials): never in `resources` or the change log. */
export class ResourceSecrets1764490000000 implements MigrationInterface {
  name = 'ResourceSecrets1764490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "resource_secrets" (
      "kind" text NOT NULL,
      "name" text NOT NULL,
      "ciphertext" bytea NOT NULL,
      "nonce" bytea NOT NULL,
      "version" integer NOT NULL,
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "PK_resource_secrets" PRIMARY KEY ("kind", "name"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "resource_secrets"`);
  }
}
