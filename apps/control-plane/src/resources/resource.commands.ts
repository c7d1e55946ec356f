import type { KindInfo, Resource, UnknownFieldPolicy } from '@pressluft/domain';
import { Command } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal.js';

export interface WriteOptions {
  readonly fieldValidation: UnknownFieldPolicy;
  readonly dryRun: boolean;
  readonly principal: Principal;
}

/** What a mutation returns to the HTTP edge: the object, and whether it is gone or still finalizing. */
export interface WriteResult {
  readonly object: Resource;
  readonly created: boolean;
  readonly gone: boolean;
  readonly warnings: readonly string[];
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
