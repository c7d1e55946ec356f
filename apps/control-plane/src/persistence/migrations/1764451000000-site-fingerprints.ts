import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SiteFingerprints1764451000000 implements MigrationInterface {
  name = 'SiteFingerprints1764451000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "site_fingerprints" (
      "site" text NOT NULL,
      "site_uid" uuid NOT NULL,
      "fence" bigint NOT NULL,
      "fingerprints" jsonb NOT NULL,
      "applied_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "PK_site_fingerprints" PRIMARY KEY ("site"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "site_fingerprints"`);
  }
}
