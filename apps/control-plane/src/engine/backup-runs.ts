import {
  BACKUP_SITE_LABEL,
  BACKUP_SITE_UID_LABEL,
  backupSpecSchema,
  siteNotIdle,
  TERMINAL_COMMAND_STATES,
  validateStatus,
  type BackupReason,
  type CommandSpec,
  type CommandStatus,
  type Resource,
  type ResourceOf,
  type RunCommandView,
  type RunSiteView,
  type SitePhase,
} from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import type { CommandQueries } from '../resources/command.queries.js';
import type { ResourceStore, ResourceTransaction } from '../resources/resource.store.js';
import { commandName, type Site } from './command.issuer.js';
import type { InformerCache } from './informer.cache.js';

/**
 * What the Backup and Restore reconcilers (and the Site reconciler's pre-delete backup) share:
 * a Backup made by the control plane, the views their planners take, the site locked for a run,
 * and the index of runs waiting for a site.
 */

type Command = Resource<CommandSpec, CommandStatus>;

/** A Backup of `site` made by the control plane (pre-delete, pre-restore); the existing one when the name is taken. */
export async function createBackup(
  tx: ResourceTransaction,
  site: Site,
  name: string,
  reason: BackupReason,
  labels: Readonly<Record<string, string>>,
  now: Date,
): Promise<ResourceOf<'Backup'>> {
  const status = validateStatus('Backup', {});
  if (!status.ok) throw new Error('the Backup status schema has no valid empty default');
  const created = await tx.create(
    {
      kind: 'Backup',
      name,
      labels: { ...labels, [BACKUP_SITE_LABEL]: site.metadata.name, [BACKUP_SITE_UID_LABEL]: site.metadata.uid },
      annotations: {},
      finalizers: [],
      spec: backupSpecSchema.parse({ site: site.metadata.name, reason }),
      status: status.value,
      generation: 1,
    },
    now,
  );
  if (!created) {
    const existing = await tx.get('Backup', name);
    if (!existing) throw new Error(`Backup ${name} could be neither created nor read`);
    return existing;
  }
  await recordEvent(tx, created, 'Normal', 'Created', `Backup ${name} of site ${site.metadata.name} created (${reason})`, now);
  return created;
}

export function runSiteView(site: Site, latest: Command | undefined): RunSiteView {
  const busy = latest !== undefined && latest.spec.fence === site.status.fence && !TERMINAL_COMMAND_STATES.includes(latest.status.state);
  return {
    name: site.metadata.name,
    phase: site.status.phase,
    bound: Boolean(site.status.nodeName),
    deleting: site.metadata.deletionTimestamp !== undefined,
    busy,
    ...(busy ? { busyWith: `${latest.spec.operation} (${latest.metadata.name}) is ${latest.status.state}` } : {}),
  };
}

/** The site as a run's planner sees it: from the informer cache while it has it, with its newest command. */
export async function observeRunSite(name: string, cache: InformerCache, store: ResourceStore, commands: CommandQueries): Promise<RunSiteView | undefined> {
  const site = cache.site(name) ?? (await store.get('Site', name));
  return site ? runSiteView(site, await newestCommand(site, cache, commands)) : undefined;
}

/** The site's newest command (the one status.fence names): from the informer cache while it has it. */
export async function newestCommand(site: Site, cache: InformerCache, commands: CommandQueries): Promise<Command | undefined> {
  const name = site.metadata.name;
  const cached = cache.latestCommand(name);
  return site.status.fence === 0 ? undefined : cached?.spec.fence === site.status.fence ? cached : await commands.latestFor(name, site.metadata.uid);
}

/** The command a run's status names, as its planner sees it. */
export async function runCommandOf(store: ResourceStore, name: string | undefined): Promise<RunCommandView | undefined> {
  const command = name ? await store.get('Command', name) : undefined;
  return command ? runCommandView(command) : undefined;
}

function runCommandView(command: Command): RunCommandView {
  const { state, reason, message, progress, backup } = command.status;
  return {
    name: command.metadata.name,
    state,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(progress ? { progress } : {}),
    ...(backup ? { backup } : {}),
  };
}

/**
 * The site, locked, when it may take a run now (the domain's siteNotIdle, re-checked under the
 * row lock so it cannot race the Site reconciler); why not otherwise.
 */
export async function lockIdleSite(tx: ResourceTransaction, name: string, phases: readonly SitePhase[]): Promise<{ site: Site; node: string } | { why: string }> {
  const site = await tx.get('Site', name, { lock: true });
  if (!site) return { why: `site ${name} does not exist` };
  const latest = site.status.fence > 0 ? await tx.get('Command', commandName(name, site.status.fence)) : undefined;
  const why = siteNotIdle(runSiteView(site, latest), phases);
  const node = site.status.nodeName;
  return why || !node ? { why: why ?? `site ${name} is not on a node yet` } : { site, node };
}

/**
 * Runs waiting for a site (PENDING until it is idle), by site name: a site's change wakes them.
 * Kept by the runs' own reconciles; the engine's resync covers a replica that just started leading.
 */
export class WaitingRuns {
  private readonly bySite = new Map<string, Set<string>>();

  set(run: string, site: string | undefined): void {
    for (const [name, runs] of this.bySite) {
      if (name !== site && runs.delete(run) && runs.size === 0) this.bySite.delete(name);
    }
    if (site) this.bySite.set(site, (this.bySite.get(site) ?? new Set()).add(run));
  }

  of(site: string): string[] {
    return [...(this.bySite.get(site) ?? [])];
  }
}
