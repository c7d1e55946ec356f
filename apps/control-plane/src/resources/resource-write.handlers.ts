import { isDeepStrictEqual } from 'node:util';
import { Inject } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import {
  applyJsonPatch,
  applyMergePatch,
  validateManifest,
  validateStatus,
  busyOperation,
  domainChanges,
  onlySkipsPreDeleteBackup,
  type SiteSpec,
  type SiteStatus,
  type KindInfo,
  type ManifestInput,
  type Resource,
} from '@pressluft/domain';
import { takeCredentials } from '../secrets/write-only-credentials.js';
import { WriteOnlySecrets } from '../secrets/write-only-secrets.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { conflict, notFound, PressluftError } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, CONFIG, type Clock } from '../infra/tokens.js';
import {
  CreateResource,
  DeleteResource,
  mutationCode,
  PatchResource,
  ReplaceResource,
  ResourceWritten,
  type WriteOptions,
  type WriteResult,
} from './resource.commands.js';
import { ResourceStore, writeOf, type RequestAudit, type ResourceTransaction } from './resource.store.js';
import { admitSiteSource } from './clone-admission.js';
import { admitRunWrite } from './run-admission.js';

/** What a write decides; whether its audit row went in with it is the store's to say. */
type Outcome = Omit<WriteResult, 'audited'>;

/** Raised inside a transaction to roll back a dry run after computing its result. */
class DryRun extends Error {
  constructor(readonly result: Outcome) {
    super('dry run');
  }
}

const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

function nameOf(body: unknown): string {
  const metadata = (body as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof metadata?.name === 'string' ? metadata.name.slice(0, 64) : '';
}

/** The status a new object starts with (the schema's defaults); only the control plane changes it afterwards. */
function initialStatus(kind: KindInfo): Record<string, unknown> {
  const result = validateStatus(kind.kind, {});
  if (!result.ok) throw new Error(`the ${kind.kind} status schema has no valid empty default`);
  return result.value;
}

/** The audit row an accepted API mutation of `kind` writes with itself (none outside a request). */
function requestAudit(kind: KindInfo, options: Pick<WriteOptions, 'principal' | 'request'>): RequestAudit | undefined {
  const { request } = options;
  if (!request) return undefined;
  return { ...request, kind: kind.kind, subject: options.principal.subject, code: (change) => mutationCode(request.verb, change) };
}

/**
 * Runs a write in a transaction (rolled back for a dry run). `optimistic`: first without one (a
 * read and a compare-and-swap, see ResourceStore.optimistically), for work that writes at most once.
 */
async function runWrite(
  store: ResourceStore,
  kind: KindInfo,
  options: Pick<WriteOptions, 'dryRun' | 'principal' | 'request'>,
  work: (tx: ResourceTransaction) => Promise<Outcome>,
  { optimistic = false }: { optimistic?: boolean } = {},
): Promise<WriteResult> {
  const audit = options.dryRun ? undefined : requestAudit(kind, options);
  if (optimistic && !options.dryRun) {
    const done = await store.optimistically(async (tx) => ({ ...(await work(tx)), audited: tx.audited }), { audit });
    if (done) return done.value;
  }
  try {
    return await store.transaction(async (tx) => {
      const result = await work(tx);
      if (options.dryRun) throw new DryRun(result);
      return { ...result, audited: tx.audited };
    }, { audit });
  } catch (error) {
    if (error instanceof DryRun) return { ...error.result, audited: false };
    throw error;
  }
}

/** kube-apiserver's words for a uid precondition that does not hold. */
function uidMismatch(precondition: string, stored: string): string {
  return `Precondition failed: UID in precondition: ${precondition}, UID in object meta: ${stored}`;
}

/** `status`: what the server sets beside the defaults (status.credentials of a BackupStore or Site). */
async function createIn(tx: ResourceTransaction, kind: KindInfo, input: ManifestInput, now: Date, status?: Record<string, unknown>): Promise<Resource> {
  if (input.resourceVersion !== undefined) {
    throw new PressluftError('Invalid', `${kind.kind} "${input.name}" is invalid: metadata.resourceVersion: must not be set on create`, [
      { field: 'metadata.resourceVersion', message: 'must not be set on create' },
    ]);
  }
  if (kind.kind === 'Site') {
    await admitSiteSource(tx, undefined, input);
    await claimDomains(tx, input.name, [], (input.spec as SiteSpec).domains);
  }
  await admitRunWrite(tx, kind.kind, undefined, input);
  const created = await tx.create(
    {
      kind: kind.kind,
      name: input.name,
      labels: input.labels,
      annotations: input.annotations,
      finalizers: input.finalizers ?? [],
      spec: input.spec,
      status: { ...initialStatus(kind), ...status },
      generation: 1,
    },
    now,
  );
  if (!created) throw new PressluftError('AlreadyExists', `${kind.plural} "${input.name}" already exists`, [], { kind: kind.plural, name: input.name });
  await recordEvent(tx, created, 'Normal', 'Created', `${kind.kind} ${input.name} created (generation 1)`, now);
  return created;
}

/**
 * Applies a validated desired object onto the current one: optimistic concurrency on
 * resourceVersion, generation bumped only by spec changes, status never taken from the user,
 * no write at all when nothing changed, and the row removed once a deleting object has no
 * finalizers left.
 */
async function updateIn(tx: ResourceTransaction, kind: KindInfo, current: Resource, input: ManifestInput, now: Date, statusChange?: Record<string, unknown>): Promise<Outcome> {
  if (input.uid !== undefined && input.uid !== current.metadata.uid) {
    throw conflict(kind.plural, current.metadata.name, uidMismatch(input.uid, current.metadata.uid));
  }
  if (input.resourceVersion !== undefined && input.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(kind.plural, current.metadata.name, STALE);
  }
  // A PUT without finalizers keeps them: a manifest must not silently drop a controller's cleanup hook.
  const finalizers = input.finalizers ?? current.metadata.finalizers;
  const specChanged = !isDeepStrictEqual(input.spec, current.spec);
  const before = writeOf(current).status;
  const status = { ...before, ...statusChange };
  const unchanged =
    !specChanged &&
    isDeepStrictEqual(status, before) &&
    isDeepStrictEqual(input.labels, current.metadata.labels) &&
    isDeepStrictEqual(input.annotations, current.metadata.annotations) &&
    isDeepStrictEqual(finalizers, current.metadata.finalizers);
  if (unchanged) return { object: current, created: false, gone: false, warnings: [] };
  await admitRunWrite(tx, kind.kind, current, input);
  if (specChanged && kind.kind === 'Site') {
    checkSiteSpecChange(current, input);
    await admitSiteSource(tx, current, input);
    await claimDomains(tx, current.metadata.name, (current.spec as SiteSpec).domains, (input.spec as SiteSpec).domains);
  }
  if (current.metadata.deletionTimestamp && finalizers.length === 0) {
    return { object: await tx.remove(current, now), created: false, gone: true, warnings: [] };
  }
  const generation = current.metadata.generation + (specChanged ? 1 : 0);
  // No Event per spec change: the watch and the audit log show every change; Events are for what the system did.
  const updated = await tx.update(
    current,
    { ...writeOf(current), labels: input.labels, annotations: input.annotations, finalizers, spec: input.spec, status, generation },
    now,
  );
  return { object: updated, created: false, gone: false, warnings: [] };
}

/**
 * One mutation per site in flight. Spec changes that can wait are accepted and queued by
 * generation (the engine deploys them when the site is ACTIVE again); these cannot wait:
 * any spec change to a site being deleted, and a change of node or environment while an
 * operation works on the site. A bound site never changes node: moving it is a migration.
 */
function checkSiteSpecChange(current: Resource, input: ManifestInput): void {
  const status = current.status as Partial<SiteStatus>;
  const before = current.spec as SiteSpec;
  const after = input.spec as SiteSpec;
  const name = current.metadata.name;
  const operation = current.metadata.deletionTimestamp ? busyOperation('DELETING') : status.phase ? busyOperation(status.phase) : undefined;
  // The one change a deleting site takes: the way on after its pre-delete backup failed.
  const skipOnly = current.metadata.deletionTimestamp !== undefined && status.phase !== 'DELETING' && onlySkipsPreDeleteBackup(before, after);
  if (operation && !skipOnly && (current.metadata.deletionTimestamp || status.phase === 'DELETING')) {
    throw conflict('sites', name, `the site is busy: ${operation} is in progress; its spec cannot change`);
  }
  if (operation && (before.nodeName !== after.nodeName || before.environment !== after.environment)) {
    throw conflict('sites', name, `the site is busy: ${operation} is in progress; spec.nodeName and spec.environment cannot change until it finishes`);
  }
  if (status.nodeName && after.nodeName !== undefined && after.nodeName !== status.nodeName) {
    throw new PressluftError('Invalid', `Site "${name}" is invalid: spec.nodeName: the site is bound to node ${status.nodeName}; moving a site to another node is a migration`, [
      { field: 'spec.nodeName', message: `must stay ${status.nodeName}, the node the site is bound to` },
    ], { kind: 'Site', name });
  }
}

/**
 * Domains are unique across sites: the site claims what it newly lists (and frees what it
 * dropped) in the write's transaction, and another site's claim refuses the write (409). A site
 * deleting keeps its domains until its row is gone. A change of domains needs a transaction.
 */
async function claimDomains(tx: ResourceTransaction, name: string, before: readonly string[], after: readonly string[]): Promise<void> {
  const change = domainChanges(before, after);
  if (!change) return;
  const taken = await tx.claimDomains(name, change.claimed, change.released);
  if (!taken) return;
  const message = `domain ${taken.domain} is already used by site ${taken.holder}`;
  throw new PressluftError('Conflict', `Operation cannot be fulfilled on sites "${name}": ${message}`, [
    { field: `spec.domains[${after.indexOf(taken.domain)}]`, message },
  ], { kind: 'sites', name });
}

function checkName(kind: KindInfo, urlName: string, input: ManifestInput): void {
  if (input.name !== urlName) {
    throw new PressluftError('BadRequest', `the name of the object (${input.name}) does not match the name on the URL (${urlName})`, [
      { field: 'metadata.name', message: `must be ${urlName}, the name on the URL` },
    ], { kind: kind.plural, name: urlName });
  }
}

abstract class WriteHandler {
  constructor(
    protected readonly store: ResourceStore,
    protected readonly events: EventBus,
    @Inject(CLOCK) protected readonly clock: Clock,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    protected readonly secrets: WriteOnlySecrets,
  ) {}

  /**
   * The body as the kind's manifest, with this installation's git source policy; a Status error
   * otherwise. Write-only fields (spec.credentials of a BackupStore or Site) come out here, before anything stores them.
   */
  protected validated(kind: KindInfo, body: unknown, options: Pick<WriteOptions, 'fieldValidation'>): ReturnType<typeof takeCredentials> & { warnings: string[] } {
    const result = validateManifest(kind.kind, body, options.fieldValidation, this.config.git);
    if (!result.ok) {
      const message =
        result.reason === 'BadRequest'
          ? `${kind.kind} in version "v1" cannot be handled as a ${kind.kind}: strict decoding error: ${result.errors.map((e) => `${e.message} "${e.field}"`).join(', ')}`
          : `${kind.kind} "${nameOf(body)}" is invalid: ${result.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
      throw new PressluftError(result.reason, message, result.errors, { kind: kind.kind, name: nameOf(body) });
    }
    return { ...takeCredentials(kind.kind, result.value), warnings: result.warnings };
  }

  protected published(result: WriteResult, options: Pick<WriteOptions, 'dryRun' | 'principal'>, verb: ResourceWritten['verb']): WriteResult {
    if (!options.dryRun) this.events.publish(new ResourceWritten(verb, result.object, options.principal.subject));
    return result;
  }
}

@CommandHandler(CreateResource)
export class CreateResourceHandler extends WriteHandler implements ICommandHandler<CreateResource> {
  async execute({ kind, body, options }: CreateResource): Promise<WriteResult> {
    const { input, credentials, warnings } = this.validated(kind, body, options);
    const now = this.clock.now();
    const result = await runWrite(this.store, kind, options, async (tx) => {
      const status = await this.secrets.write(tx, kind.kind, input, credentials, undefined, now);
      return { object: await createIn(tx, kind, input, now, status), created: true, gone: false, warnings };
    });
    return this.published(result, options, 'created');
  }
}

@CommandHandler(ReplaceResource)
export class ReplaceResourceHandler extends WriteHandler implements ICommandHandler<ReplaceResource> {
  async execute({ kind, name, body, options }: ReplaceResource): Promise<WriteResult> {
    const { input, credentials, warnings } = this.validated(kind, body, options);
    checkName(kind, name, input);
    const now = this.clock.now();
    const result = await runWrite(this.store, kind, options, async (tx) => {
      const current = await tx.get(kind.kind, name, { lock: true });
      if (!current) {
        // A version or uid names an object that existed: it is gone, and a new one never takes its uid.
        if (input.resourceVersion !== undefined || input.uid !== undefined) throw notFound(kind.plural, name);
        return { object: await createIn(tx, kind, input, now, await this.secrets.write(tx, kind.kind, input, credentials, undefined, now)), created: true, gone: false, warnings };
      }
      return { ...(await updateIn(tx, kind, current, input, now, await this.secrets.write(tx, kind.kind, input, credentials, current, now))), warnings };
    }, { optimistic: true });
    return this.published(result, options, result.created ? 'created' : result.gone ? 'deleted' : 'updated');
  }
}

@CommandHandler(PatchResource)
export class PatchResourceHandler extends WriteHandler implements ICommandHandler<PatchResource> {
  async execute({ kind, name, patchType, patch, options }: PatchResource): Promise<WriteResult> {
    const now = this.clock.now();
    const result = await runWrite(this.store, kind, options, async (tx) => {
      const current = await tx.get(kind.kind, name, { lock: true });
      if (!current) throw notFound(kind.plural, name);
      // Patches apply to what the user owns: metadata they may set and spec, never status.
      const view = {
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          name: current.metadata.name,
          labels: current.metadata.labels,
          annotations: current.metadata.annotations,
          finalizers: current.metadata.finalizers,
          resourceVersion: current.metadata.resourceVersion,
          uid: current.metadata.uid,
        },
        spec: current.spec,
      };
      let patched: unknown;
      if (patchType === 'merge') {
        patched = applyMergePatch(view, patch);
      } else {
        const applied = applyJsonPatch(view, patch);
        if (!applied.ok) throw new PressluftError('Invalid', `the JSON patch cannot be applied: ${applied.error.field}: ${applied.error.message}`, [applied.error]);
        patched = applied.value;
      }
      const { input, credentials, warnings } = this.validated(kind, patched, options);
      checkName(kind, name, input);
      const status = await this.secrets.write(tx, kind.kind, input, credentials, current, now);
      // The patched view carried the finalizers; if they are gone now, the patch removed them.
      return { ...(await updateIn(tx, kind, current, { ...input, finalizers: input.finalizers ?? [] }, now, status)), warnings };
    }, { optimistic: true });
    return this.published(result, options, result.gone ? 'deleted' : 'updated');
  }
}

@CommandHandler(DeleteResource)
export class DeleteResourceHandler extends WriteHandler implements ICommandHandler<DeleteResource> {
  async execute({ kind, name, preconditions, options }: DeleteResource): Promise<WriteResult> {
    const now = this.clock.now();
    const result = await runWrite(this.store, kind, options, async (tx) => {
      const current = await tx.get(kind.kind, name, { lock: true });
      if (!current) throw notFound(kind.plural, name);
      if (preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid) {
        throw conflict(kind.plural, name, uidMismatch(preconditions.uid, current.metadata.uid));
      }
      if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(kind.plural, name, STALE);
      }
      await this.secrets.refuseDeleteWhileUsed(tx, current);
      await admitRunWrite(tx, kind.kind, current, undefined);
      if (current.metadata.finalizers.length === 0) {
        return { object: await tx.remove(current, now), created: false, gone: true, warnings: [] };
      }
      if (current.metadata.deletionTimestamp) return { object: current, created: false, gone: false, warnings: [] };
      const marked = await tx.update(current, { ...writeOf(current), deletionTimestamp: now.toISOString() }, now);
      await recordEvent(tx, marked, 'Normal', 'DeletionRequested', `${kind.kind} ${name}: deletion requested; waiting for finalizers ${current.metadata.finalizers.join(', ')}`, now);
      return { object: marked, created: false, gone: false, warnings: [] };
    });
    return this.published(result, options, result.gone ? 'deleted' : 'deletion requested');
  }
}

export const WRITE_HANDLERS = [CreateResourceHandler, ReplaceResourceHandler, PatchResourceHandler, DeleteResourceHandler];
