import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which site holds each domain: the primary key makes a domain unique across sites, also for two
 * writes racing. Existing sites fill it; if two already share a domain, the first by name holds it
 * and the other keeps working (it is refused only when it claims a domain it did not have).
 */
export class SiteDomains1764460000000 implements MigrationInterface {
  name = 'SiteDomains1764460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "site_domains" (
      "domain" text NOT NULL,
      "site" text NOT NULL,
      CONSTRAINT "PK_site_domains" PRIMARY KEY ("domain"))`);
    await q.query(`CREATE INDEX "site_domains_site" ON "site_domains" ("site")`);
    await q.query(`INSERT INTO "site_domains" ("domain", "site")
      SELECT DISTINCT ON (d.domain) d.domain, r.name
        FROM "resources" r, jsonb_array_elements_text(r.spec->'domains') AS d(domain)
       WHERE r.kind = 'Site' AND jsonb_typeof(r.spec->'domains') = 'array'
       ORDER BY d.domain, r.name`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "site_domains"`);
  }
}
