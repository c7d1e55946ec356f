import { isDeepStrictEqual } from 'node:util';
import {
  busyOperation,
  contentSyncRefusal,
  promotionRefusal,
  restoreTarget,
  type BackupSpec,
  type ContentSyncSpec,
  type KindName,
  type ManifestInput,
  type Resource,
  type ResourceOf,
  type RestoreSpec,
} from '@pressluft/domain';
import { conflict, invalidField } from '../common/errors.js';
import type { ResourceTransaction } from './resource-transaction.js';
import { activeRunOn, type ActiveRun } from './run.queries.js';

/**
 * Admission for runs (Backup, Restore, ContentSync, Promotion), in the write's transaction. A
 * Backup is of a site that exists (into a store that exists, when it names one), and is a record
 * once made: only spec.retain changes. A Restore names a SUCCEEDED Backup and is immutable; a
 * ContentSync or Promotion names two sites that exist, not being deleted, in the direction the
 * environment rules allow (libs/domain environments.ts), and is immutable. One run at a time
 * writes into a site: a Restore, ContentSync or Promotion into a site another one (PENDING or
 * RUNNING) writes into is refused with 409 rather than queued (its backup of the target would
 * capture the first one's half-done state), and meanwhile the site's spec does not change and it
 * is not deleted (409). `current` undefined: a create; `input` undefined: a delete.
 */
export async function admitRunWrite(tx: ResourceTransaction, kind: KindName, current: Resource | undefined, input: ManifestInput | undefined): Promise<void> {
  switch (kind) {
    case 'Backup':
      if (input) await admitBackup(tx, current, input);
      return;
    case 'Restore':
      if (input) await admitRestore(tx, current, input);
      return;
    case 'ContentSync':
    case 'Promotion':
      if (input) await admitEnvironmentRun(tx, kind, current, input);
      return;
    case 'Site':
      if (current && (!input || !isDeepStrictEqual(current.spec, input.spec))) await refuseWhileRunOn(tx, current.metadata.name, input ? 'its spec cannot change' : 'it cannot be deleted');
      return;
    case 'BackupStore':
    case 'Command':
    case 'Event':
    case 'Node':
      return;
  }
}

async function admitBackup(tx: ResourceTransaction, current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as BackupSpec;
  if (current) {
    const before = current.spec as BackupSpec;
    if (!isDeepStrictEqual({ ...before, retain: spec.retain }, spec)) throw invalidField('Backup', input.name, 'spec', 'is immutable once created, except spec.retain');
    return;
  }
  if (!(await tx.get('Site', spec.site))) throw invalidField('Backup', input.name, 'spec.site', `site ${spec.site} does not exist`);
  if (spec.store && !(await tx.get('BackupStore', spec.store))) throw invalidField('Backup', input.name, 'spec.store', `backup store ${spec.store} does not exist`);
}

async function admitRestore(tx: ResourceTransaction, current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as RestoreSpec;
  if (current) {
    if (!isDeepStrictEqual(current.spec, spec)) throw invalidField('Restore', input.name, 'spec', 'is immutable once created');
    return;
  }
  const backup = await tx.get('Backup', spec.backup);
  if (!backup) throw invalidField('Restore', input.name, 'spec.backup', `backup ${spec.backup} does not exist`);
  if (backup.status.phase !== 'SUCCEEDED') throw invalidField('Restore', input.name, 'spec.backup', `backup ${spec.backup} is ${backup.status.phase}; only a SUCCEEDED backup can be restored`);
  const target = restoreTarget({ spec, status: { phase: 'PENDING', observedGeneration: 0, conditions: [] } }, backup);
  if (!target) return;
  if (spec.parts && !spec.parts.includes('code') && !(await tx.get('Site', target))) {
    throw invalidField('Restore', input.name, 'spec.parts', `without code only into an existing site: site ${target} does not exist, and a site the restore creates needs its code`);
  }
  await refuseSecondRun(tx, 'restores', input.name, target);
}

/** A ContentSync or Promotion: both sites exist and stay, the direction rule holds, the target is idle. */
async function admitEnvironmentRun(tx: ResourceTransaction, kind: 'ContentSync' | 'Promotion', current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as Pick<ContentSyncSpec, 'from' | 'to'>;
  if (current) {
    if (!isDeepStrictEqual(current.spec, spec)) throw invalidField(kind, input.name, 'spec', 'is immutable once created');
    return;
  }
  const plural = kind === 'ContentSync' ? 'contentsyncs' : 'promotions';
  const site = async (field: 'spec.from' | 'spec.to', name: string): Promise<ResourceOf<'Site'>> => {
    const found = await tx.get('Site', name);
    if (!found) throw invalidField(kind, input.name, field, `site ${name} does not exist`);
    return found;
  };
  const from = await site('spec.from', spec.from);
  const to = await site('spec.to', spec.to);
  const view = (s: ResourceOf<'Site'>) => ({ name: s.metadata.name, environment: s.spec.environment });
  const refusal = (kind === 'ContentSync' ? contentSyncRefusal : promotionRefusal)(view(from), view(to));
  if (refusal) throw invalidField(kind, input.name, refusal.field, `${refusal.rule}: ${refusal.message}`);
  for (const s of [from, to]) {
    if (s.metadata.deletionTimestamp || s.status.phase === 'DELETING') throw conflict(plural, input.name, `site ${s.metadata.name} is being deleted`);
  }
  const operation = busyOperation(to.status.phase);
  if (operation) throw conflict(plural, input.name, `site ${to.metadata.name} is busy: ${operation} is in progress; try again when it finished`);
  await refuseSecondRun(tx, plural, input.name, to.metadata.name);
}

/** What a run does to its target, for the 409's sentence. */
const DOING: Record<ActiveRun['kind'], string> = { Restore: 'restored', ContentSync: 'synced', Promotion: 'promoted to' };

async function refuseSecondRun(tx: ResourceTransaction, plural: string, name: string, target: string): Promise<void> {
  const other = await activeRunOn(tx.manager, target);
  if (other) throw conflict(plural, name, `site ${target} is being ${DOING[other.kind]} by ${other.kind} ${other.name}; wait until it finished`);
}

async function refuseWhileRunOn(tx: ResourceTransaction, site: string, what: string): Promise<void> {
  const run = await activeRunOn(tx.manager, site);
  if (run) throw conflict('sites', site, `the site is being ${DOING[run.kind]} by ${run.kind} ${run.name}; ${what} until it finished`);
}
