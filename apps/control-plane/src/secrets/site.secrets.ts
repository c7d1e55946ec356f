import { Injectable } from '@nestjs/common';
import {
  mergeSiteCredentials,
  SITE_CREDENTIAL_FIELDS,
  missingSiteCredential,
  storedSiteCredentialFields,
  type Resource,
  type SiteCredentialField,
  type SiteCredentials,
  type SiteSpec,
  type SiteStatus,
  type StoredSiteCredentials,
} from '@pressluft/domain';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { PressluftError } from '../common/errors.js';
import type { ResourceTransaction } from '../resources/resource-transaction.js';
import { ResourceSecrets } from './resource-secrets.js';

/** What is stored: only fields with a value (a "" in a write removes the field). */
const storedSchema: z.ZodType<StoredSiteCredentials> = z.strictObject(Object.fromEntries(SITE_CREDENTIAL_FIELDS.map((field) => [field, z.string().min(1).optional()])) as Record<SiteCredentialField, z.ZodOptional<z.ZodString>>);

/**
 * A Site's write-only spec.credentials (ResourceSecrets), merged field by field: a field given
 * replaces the stored one, a field absent keeps it, "" removes it; the same value again stores
 * nothing. status.credentials says which fields are stored (never a value).
 */
@Injectable()
export class SiteSecrets {
  constructor(
    private readonly secrets: ResourceSecrets,
    private readonly dataSource: DataSource,
  ) {}

  /** One stored field of the site (for the node's IssueCertificate); undefined when not stored. */
  async field(site: string, field: SiteCredentialField): Promise<string | undefined> {
    return (await this.secrets.read(this.dataSource.manager, 'Site', site, storedSchema))?.[field];
  }

  /**
   * Inside the site's write (create: `current` undefined): stores the merged credentials, refuses
   * a spec.tls whose credential would be neither stored nor given (422 naming the field), and
   * answers the status.credentials the site carries (undefined: unchanged).
   */
  async write(tx: ResourceTransaction, name: string, given: SiteCredentials | undefined, current: Resource | undefined, spec: SiteSpec, now: Date): Promise<Partial<SiteStatus> | undefined> {
    const stored = given
      ? await this.secrets.update(tx, 'Site', name, storedSchema, now, (before) => {
          const merged = mergeSiteCredentials(before ?? {}, given);
          return before === undefined && storedSiteCredentialFields(merged).length === 0 ? undefined : merged;
        })
      : undefined;
    const fields = stored ? storedSiteCredentialFields(stored.value) : ((current?.status as Partial<SiteStatus> | undefined)?.credentials?.fields ?? []);
    const missing = missingSiteCredential(spec, fields);
    if (missing) throw new PressluftError('Invalid', `Site "${name}" is invalid: ${missing.field}: ${missing.message}`, [missing], { kind: 'Site', name });
    return stored && { credentials: { fields, updatedAt: stored.row.updatedAt.toISOString(), version: stored.row.version } };
  }
}
