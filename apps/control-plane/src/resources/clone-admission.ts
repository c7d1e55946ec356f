import { isDeepStrictEqual } from 'node:util';
import type { ManifestInput, Resource, SiteSpec } from '@pressluft/domain';
import { conflict, invalidField } from '../common/errors.js';
import type { ResourceTransaction } from './resource-transaction.js';

/**
 * A clone (spec.source.clone.site) is of a site that exists and is not being deleted (its backup
 * is the clone's medium), and where a site's content came from never changes after its create.
 * `current` undefined: a create.
 */
export async function admitSiteSource(tx: ResourceTransaction, current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as SiteSpec;
  if (current) {
    if (!isDeepStrictEqual((current.spec as SiteSpec).source, spec.source)) {
      throw invalidField('Site', input.name, 'spec.source', 'is immutable once the site is created');
    }
    return;
  }
  const sourceName = spec.source?.clone.site;
  if (sourceName === undefined) return;
  const source = await tx.get('Site', sourceName);
  if (!source) throw invalidField('Site', input.name, 'spec.source.clone.site', `site ${sourceName} does not exist`);
  if (source.metadata.deletionTimestamp) throw conflict('sites', input.name, `the clone's source site ${sourceName} is busy: a deletion is in progress`);
}
