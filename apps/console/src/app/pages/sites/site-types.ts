import { condition, type AnyObject, type ApiObject } from '../../core/types';

/** The parts of a Site the console reads and edits (libs/domain/src/site.ts has the whole schema). */
export interface SiteSpec {
  readonly environment?: 'production' | 'staging';
  readonly domains?: readonly string[];
  readonly nodeName?: string;
  readonly wordpress?: { readonly version?: string; readonly title?: string; readonly adminUser?: string; readonly adminEmail?: string };
  readonly code?: { readonly git?: { readonly url?: string; readonly ref?: string } };
  readonly php?: { readonly version?: string; readonly memoryLimit?: string; readonly maxChildren?: number };
  readonly drift?: { readonly policy?: 'Observe' | 'Remediate' };
  readonly source?: { readonly clone?: { readonly site?: string } };
}
export interface SiteStatus {
  readonly nodeName?: string;
  readonly currentRelease?: string;
  readonly releases?: readonly string[];
  readonly url?: string;
  readonly observedGeneration?: number;
  readonly credentialsRotatedAt?: string;
}
export type Site = ApiObject<SiteSpec, SiteStatus>;

export type Node = ApiObject<{ readonly unschedulable?: boolean }, { readonly load?: number; readonly sites?: number; readonly lastHeartbeat?: string }>;

export type Backup = ApiObject<{ readonly site?: string; readonly reason?: string }, { readonly completedAt?: string; readonly message?: string; readonly bytesTotal?: number; readonly command?: string }>;

export type Command = ApiObject<{ readonly site?: string; readonly operation?: string; readonly fence?: number }, { readonly state?: string; readonly reason?: string; readonly message?: string }>;

/** An Event as the API serves it (like a Kubernetes Event): its fields at the top level, no spec. */
export type SiteEvent = ApiObject & {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly lastTimestamp?: string;
};

export const RUNNING_COMMAND_STATES: readonly string[] = ['PENDING', 'DISPATCHED', 'RUNNING'];

/** A new object's manifest (apiVersion, kind, name) around its spec. */
export function manifest(kind: string, name: string, spec: object, labels?: Readonly<Record<string, string>>): object {
  return { apiVersion: 'pressluft.io/v1', kind, metadata: { name, ...(labels ? { labels } : {}) }, spec };
}

/** A name for an object the console creates for the user: `<prefix>-<base36 time>` (names are at most 40 characters). */
export function generatedName(prefix: string): string {
  return `${prefix.slice(0, 30)}-${Date.now().toString(36)}`;
}

/** A condition in a few words: "True (Converged)", "Unknown" when the object has none of that type. */
export function conditionSummary(object: AnyObject | undefined, type: string): string {
  const c = condition(object, type);
  return c ? `${c.status}${c.reason ? ` (${c.reason})` : ''}` : 'Unknown';
}
