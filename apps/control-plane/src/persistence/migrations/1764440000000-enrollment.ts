import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Enrollment1764440000000 implements MigrationInterface {
  name = 'Enrollment1764440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "join_tokens" (
      "id" uuid NOT NULL,
      "node" text NOT NULL,
      "token_hash" text NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "created_by" text NOT NULL,
      "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "used_at" TIMESTAMP WITH TIME ZONE,
      "revoked_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "UQ_join_tokens_token_hash" UNIQUE ("token_hash"),
      CONSTRAINT "PK_join_tokens" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "node_enrollments" (
      "node" text NOT NULL,
      "serial" text NOT NULL,
      "previous_serial" text,
      "not_after" TIMESTAMP WITH TIME ZONE NOT NULL,
      "agent_version" text NOT NULL,
      "enrolled_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "renewed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "PK_node_enrollments" PRIMARY KEY ("node"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "node_enrollments"`);
    await q.query(`DROP TABLE "join_tokens"`);
  }
}
