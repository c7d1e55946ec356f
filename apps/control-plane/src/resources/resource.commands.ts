import type { KindInfo, Resource, UnknownFieldPolicy } from '@pressluft/domain';
import { Command } from '@nestjs/cqrs';
import type { AuditedRequest, MutationVerb } from '../audit/request-audit.js';
import type { Principal } from '../auth/principal.js';
import type { ChangeType } from './resource.store.js';

export interface WriteOptions {
  readonly fieldValidation: UnknownFieldPolicy;
  readonly dryRun: boolean;
  readonly principal: Principal;
  /** Present for API requests: the accepted write inserts the request's audit row with itself. */
  readonly request?: AuditedRequest | undefined;
}

/** What a mutation returns to the HTTP edge: the object, and whether it is gone or still finalizing. */
export interface WriteResult {
  readonly object: Resource;
  readonly created: boolean;
  readonly gone: boolean;
  readonly warnings: readonly string[];
  /** The request's audit row was committed with the write (the edge writes none of its own then). */
  readonly audited: boolean;
}

/**
 * The HTTP status of an accepted mutation, by what happened to the object: 201 for a create,
 * 202 for a DELETE that leaves the object finalizing, 200 otherwise (also when nothing changed).
 */
export function mutationCode(verb: MutationVerb, change: ChangeType): number {
  if (change === 'ADDED') return 201;
  return verb === 'DELETE' && change === 'MODIFIED' ? 202 : 200;
}

/** The change a result stands for (MODIFIED also when nothing was written). */
export function changeOf(result: Pick<WriteResult, 'created' | 'gone'>): ChangeType {
  return result.created ? 'ADDED' : result.gone ? 'DELETED' : 'MODIFIED';
}

export class CreateResource extends Command<WriteResult> {
  constructor(readonly kind: KindInfo, readonly body: unknown, readonly options: WriteOptions) {
    super();
  }
}

/** PUT: replace, or create when absent. */
export class ReplaceResource extends Command<WriteResult> {
  constructor(readonly kind: KindInfo, readonly name: string, readonly body: unknown, readonly options: WriteOptions) {
    super();
  }
}

export type PatchType = 'merge' | 'json';

export class PatchResource extends Command<WriteResult> {
  constructor(
    readonly kind: KindInfo,
    readonly name: string,
    readonly patchType: PatchType,
    readonly patch: unknown,
    readonly options: WriteOptions,
  ) {
    super();
  }
}

export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export class DeleteResource extends Command<WriteResult> {
  constructor(
    readonly kind: KindInfo,
    readonly name: string,
    readonly preconditions: DeletePreconditions,
    readonly options: Omit<WriteOptions, 'fieldValidation'>,
  ) {
    super();
  }
}

/** Published after a mutation committed (for logs and, later, the reconcilers' queue). */
export class ResourceWritten {
  constructor(
    readonly verb: 'created' | 'updated' | 'deletion requested' | 'deleted',
    readonly object: Resource,
    readonly subject: string,
  ) {}
}
