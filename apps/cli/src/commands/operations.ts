import type { Argv } from 'yargs';
import { V1, type ApiClient, type ApiObject } from '../api-client.js';
import { clientFor, type GlobalArgs, type Io } from '../context.js';
import { commandVerdict, runVerdict, siteVerdict, waitFor, type Verdict } from '../follow.js';
import { changed, render, text } from '../output.js';
import { progressView } from '../progress.js';
import { backupCall, cloneCall, contentSyncCall, promotionCall, restoreCall, rollbackCall, type ApiCall } from '../requests.js';

interface Operation {
  readonly call: ApiCall;
  /** Where the created object is watched (its plural), and when it is done. */
  readonly plural: string;
  readonly verdict: (object: ApiObject) => Verdict | undefined;
  /** The sites whose commands show the progress. */
  readonly sites: readonly string[];
}

/** Sends the request; with --wait follows the object to its end (progress bar, exit code by outcome). */
async function operate(client: ApiClient, op: Operation, wait: boolean, args: GlobalArgs, io: Io): Promise<void> {
  const created = await client.request<ApiObject>(op.call.method, op.call.path, op.call.body);
  const name = created.metadata.name;
  if (!wait) {
    io.out(render(created, args.output, () => changed(created.kind, name, 'created')));
    return;
  }
  if (args.output === 'table') io.err(changed(created.kind, name, 'created'));
  const view = progressView(`${(created.kind ?? '').toLowerCase()}/${name}`, io.interactive, io.errStream);
  const done = await waitFor(client, { plural: op.plural, name, verdict: op.verdict }, { view, sites: op.sites, ...(created.metadata.resourceVersion ? { since: created.metadata.resourceVersion } : {}) });
  io.out(render(done, args.output, () => changed(done.kind, name, text(done.status?.['phase'] ?? done.status?.['state']) || 'done')));
}

const wait = { type: 'boolean', default: false, describe: 'wait until it is done (progress bar; exit 1 if it fails)' } as const;
const name = { type: 'string', describe: 'name of the object (default: generated from the site and the time)' } as const;

/** A run between two sites: --from, --to, --name, --wait. */
const fromTo = <T>(b: Argv<T>) =>
  b.option('from', { type: 'string', demandOption: true }).option('to', { type: 'string', demandOption: true }).option('name', name).option('wait', wait);

/** `--parts database,uploads`: a wrong part is a usage error before anything is sent. */
function parseParts(value: string): string[] {
  const parts = value.split(',').filter(Boolean);
  const wrong = parts.filter((p) => p !== 'database' && p !== 'uploads');
  if (parts.length === 0 || wrong.length > 0) throw new Error(`--parts takes database and/or uploads, not "${value}"`);
  return parts;
}

export function operationCommands(y: Argv<GlobalArgs>, io: Io): Argv<GlobalArgs> {
  return y
    .command(
      'rollback <site>',
      "roll a site back to its previous release (or --release)",
      (b) => b.positional('site', { type: 'string', demandOption: true }).option('release', { type: 'string', describe: 'release id to go back to' }).option('wait', wait),
      (a) => operate(clientFor(a, io), { call: rollbackCall(a.site, a.release), plural: 'commands', verdict: commandVerdict, sites: [a.site] }, a.wait, a, io),
    )
    .command(
      'backup <site>',
      'back a site up now (a Backup)',
      (b) => b.positional('site', { type: 'string', demandOption: true }).option('name', name).option('wait', wait),
      (a) => operate(clientFor(a, io), { call: backupCall(a.site, a.name, io.now()), plural: 'backups', verdict: runVerdict, sites: [a.site] }, a.wait, a, io),
    )
    .command(
      'restore <backup>',
      "restore a backup into its site (or --site: another, or a new one)",
      (b) => b.positional('backup', { type: 'string', demandOption: true }).option('site', { type: 'string', describe: 'target site (default: the backup\'s site)' }).option('name', name).option('wait', wait),
      async (a) => {
        const client = clientFor(a, io);
        const backup = await client.request<ApiObject>('GET', `${V1}/backups/${encodeURIComponent(a.backup)}`);
        const target = a.site ?? text(backup.spec?.['site']);
        await operate(client, { call: restoreCall(a.backup, a.site, a.name, io.now()), plural: 'restores', verdict: runVerdict, sites: [target] }, a.wait, a, io);
      },
    )
    .command(
      'clone <source> <site>',
      'make a new site from a copy of another (spec.source.clone)',
      (b) =>
        b
          .positional('source', { type: 'string', demandOption: true })
          .positional('site', { type: 'string', demandOption: true })
          .option('domain', { type: 'string', array: true, demandOption: true, describe: "the new site's domain (repeat for more)" })
          .option('environment', { choices: ['staging', 'production'] as const, default: 'staging' as const })
          .option('node', { type: 'string', describe: "node of the new site (default: the source's)" })
          .option('wait', wait),
      async (a) => {
        const client = clientFor(a, io);
        const source = await client.request<ApiObject>('GET', `${V1}/sites/${encodeURIComponent(a.source)}`);
        const call = cloneCall(source, a.site, { domains: a.domain, environment: a.environment, ...(a.node ? { node: a.node } : {}) });
        await operate(client, { call, plural: 'sites', verdict: siteVerdict, sites: [a.source, a.site] }, a.wait, a, io);
      },
    )
    .command(
      'sync-content',
      "copy content (database, uploads) down from one site to another (a ContentSync)",
      (b) =>
        fromTo(b)
          .option('parts', { type: 'string', coerce: parseParts, describe: 'what moves, comma-separated: database,uploads (default both)' }),
      (a) => operate(clientFor(a, io), { call: contentSyncCall(a.from, a.to, a.parts, a.name, io.now()), plural: 'contentsyncs', verdict: runVerdict, sites: [a.from, a.to] }, a.wait, a, io),
    )
    .command(
      'promote',
      "deploy a staging site's exact commit to another site (a Promotion)",
      (b) =>
        fromTo(b).option('acknowledge-drift', { type: 'boolean', default: false, describe: 'promote although the target is Drifted (audited)' }),
      (a) => operate(clientFor(a, io), { call: promotionCall(a.from, a.to, a['acknowledge-drift'], a.name, io.now()), plural: 'promotions', verdict: runVerdict, sites: [a.from, a.to] }, a.wait, a, io),
    );
}
