import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764420000000 implements MigrationInterface {
  name = 'InitialSchema1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE "resource_version_seq" AS bigint`);
    await q.query(`CREATE TABLE "resources" (
      "kind" text NOT NULL,
      "name" text NOT NULL,
      "uid" uuid NOT NULL,
      "generation" bigint NOT NULL,
      "resource_version" bigint NOT NULL,
      "labels" jsonb NOT NULL,
      "annotations" jsonb NOT NULL,
      "finalizers" jsonb NOT NULL,
      "spec" jsonb NOT NULL,
      "status" jsonb NOT NULL,
      "creation_timestamp" TIMESTAMP WITH TIME ZONE NOT NULL,
      "deletion_timestamp" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "UQ_resources_uid" UNIQUE ("uid"),
      CONSTRAINT "PK_resources" PRIMARY KEY ("kind", "name"))`);
    await q.query(`CREATE INDEX "resources_kind_resource_version" ON "resources" ("kind", "resource_version")`);
    await q.query(`CREATE INDEX "resources_labels" ON "resources" USING gin ("labels" jsonb_path_ops)`);
    await q.query(`CREATE TABLE "resource_changes" (
      "resource_version" bigint NOT NULL,
      "kind" text NOT NULL,
      "name" text NOT NULL,
      "type" text NOT NULL,
      "object" jsonb NOT NULL,
      "changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "resource_changes_type" CHECK ("type" IN ('ADDED', 'MODIFIED', 'DELETED')),
      CONSTRAINT "PK_resource_changes" PRIMARY KEY ("resource_version"))`);
    await q.query(`CREATE INDEX "resource_changes_kind_resource_version" ON "resource_changes" ("kind", "resource_version")`);
    await q.query(`CREATE TABLE "audit_log" (
      "id" BIGSERIAL NOT NULL,
      "at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "subject" text NOT NULL,
      "verb" text NOT NULL,
      "path" text NOT NULL,
      "code" integer NOT NULL,
      "reason" text,
      "request_id" text NOT NULL,
      CONSTRAINT "PK_audit_log" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "audit_log_at" ON "audit_log" ("at")`);
    await q.query(`CREATE TABLE "api_tokens" (
      "id" uuid NOT NULL,
      "subject" text NOT NULL,
      "role" text NOT NULL,
      "token_hash" text NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "created_by" text NOT NULL,
      "revoked_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "api_tokens_role" CHECK ("role" IN ('admin', 'operator', 'viewer')),
      CONSTRAINT "UQ_api_tokens_token_hash" UNIQUE ("token_hash"),
      CONSTRAINT "PK_api_tokens" PRIMARY KEY ("id"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "api_tokens"`);
    await q.query(`DROP TABLE "audit_log"`);
    await q.query(`DROP TABLE "resource_changes"`);
    await q.query(`DROP TABLE "resources"`);
    await q.query(`DROP SEQUENCE "resource_version_seq"`);
  }
}
