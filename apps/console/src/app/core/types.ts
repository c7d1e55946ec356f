/** The API's objects as the console reads them (the wire shape of every kind; see the OpenAPI document). */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface ObjectMeta {
  readonly name: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
}

export interface ApiObject<Spec extends object = Record<string, unknown>, Status extends object = Record<string, unknown>> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec?: Spec;
  readonly status?: Status & { readonly conditions?: readonly Condition[]; readonly phase?: string };
}

export interface ListResponse<T = ApiObject> {
  readonly kind: string;
  readonly metadata: { readonly resourceVersion: string; readonly continue?: string };
  readonly items: readonly T[];
}

/** One line of a watch stream. */
export interface WatchEvent<T = ApiObject> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

/** A Kubernetes Status (every error the API answers). */
export interface StatusCause {
  readonly field?: string;
  readonly message?: string;
  readonly reason?: string;
}
export interface StatusBody {
  readonly kind: 'Status';
  readonly code: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly causes?: readonly StatusCause[] };
}

export type Role = 'admin' | 'operator' | 'viewer';
export interface Principal {
  readonly subject: string;
  readonly role: Role;
}

/** The plural names of the kinds (contract.md). */
export type Plural = 'sites' | 'nodes' | 'backups' | 'restores' | 'backupstores' | 'contentsyncs' | 'promotions' | 'commands' | 'events';

export function condition(object: AnyObject | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Any kind's object, whatever its spec and status types. */
export type AnyObject = ApiObject<object, object>;
