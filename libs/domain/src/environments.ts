import { z } from 'zod';
import { duplicates, nameSchema, printableTextSchema, reasonSchema, timestampSchema } from './field-schemas.js';
import { runStatusShape } from './backup.js';
import { GIT_URL_PATTERN, releaseIdSchema, type SiteSpec } from './site.js';

/**
 * Environments (issue 19): code goes UP (a Promotion deploys a staging site's exact commit to
 * production), content goes DOWN (a ContentSync copies database and uploads from production to
 * staging), never the other way. The rules live here; the API enforces them at write time.
 */

/** What a ContentSync moves: never code (that is a Promotion's). */
export const CONTENT_PARTS = ['database', 'uploads'] as const;
export type ContentPart = (typeof CONTENT_PARTS)[number];

export const contentSyncSpecSchema = z
  .strictObject({
    /** The site content comes from (read, never written). */
    from: nameSchema,
    /** The site overwritten (a staging site; backed up first). */
    to: nameSchema,
    parts: z
      .array(z.enum(CONTENT_PARTS))
      .min(1)
      .max(2)
      .superRefine((parts, ctx) => duplicates(parts, ctx, 'duplicate part'))
      .default(['database', 'uploads']),
  })
  .superRefine((spec, ctx) => {
    if (spec.from === spec.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must name another site than spec.from' });
  });

export const contentSyncStatusSchema = z.strictObject({
  ...runStatusShape,
  /** The Backup of the source the content comes from. */
  sourceBackup: nameSchema.optional(),
  /** The mandatory Backup of the target taken before it is overwritten. */
  preSyncBackup: nameSchema.optional(),
  /** The Restore (parts of the source backup into the target) that moves the content. */
  restore: nameSchema.optional(),
  /** What moved, once SUCCEEDED: the parts, and the size of the source backup they came from. */
  moved: z.strictObject({ parts: z.array(z.enum(CONTENT_PARTS)).max(2), bytes: z.int().min(0).optional(), files: z.int().min(0).optional() }).optional(),
});

export const promotionSpecSchema = z
  .strictObject({
    /** The staging site whose current release's commit is deployed. */
    from: nameSchema,
    /** The site that gets it (its content never moves). */
    to: nameSchema,
    /** Promote although the target is Drifted (the audit log records who acknowledged it). */
    acknowledgeDrift: z.boolean().default(false),
  })
  .superRefine((spec, ctx) => {
    if (spec.from === spec.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must name another site than spec.from' });
  });

export const promotionStatusSchema = z.strictObject({
  ...runStatusShape,
  /** The source's release, its git URL and exact commit (resolved when the run starts). */
  sourceRelease: releaseIdSchema.optional(),
  gitUrl: z.string().max(512).regex(GIT_URL_PATTERN).optional(),
  commit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/).optional(),
  /** The mandatory Backup of the target taken first. */
  preBackup: nameSchema.optional(),
  /** The target's release before and after (after: only when the deploy went through). */
  previousRelease: releaseIdSchema.optional(),
  release: releaseIdSchema.optional(),
  /** The target's metadata.generation the promotion's deploy converges to. */
  targetGeneration: z.int().min(0).optional(),
  /** Why it failed, as the node or the checks said. */
  reason: reasonSchema.optional(),
  detail: printableTextSchema(1024).optional(),
  observedAt: timestampSchema.optional(),
});

export type ContentSyncSpec = z.infer<typeof contentSyncSpecSchema>;
export type ContentSyncStatus = z.infer<typeof contentSyncStatusSchema>;
export type PromotionSpec = z.infer<typeof promotionSpecSchema>;
export type PromotionStatus = z.infer<typeof promotionStatusSchema>;

/** A rule's refusal: which rule (CamelCase), the field it is about, and a sentence for people. */
export interface EnvironmentRefusal {
  readonly rule: string;
  readonly field: string;
  readonly message: string;
}

/** What the rules look at of a site. */
export interface EnvironmentSite {
  readonly name: string;
  readonly environment: SiteSpec['environment'];
}

/**
 * Content down only: a ContentSync into a production site is refused (whatever its source);
 * so is one from a staging site into production (the same rule, named for the message).
 */
export function contentSyncRefusal(from: EnvironmentSite, to: EnvironmentSite): EnvironmentRefusal | undefined {
  if (to.environment !== 'production') return undefined;
  const why =
    from.environment === 'staging'
      ? `never overwrite production content with staging data: site ${to.name} is production and site ${from.name} is staging`
      : `content goes down only: site ${to.name} is production, and a ContentSync never overwrites a production site's content`;
  return { rule: 'NoContentIntoProduction', field: 'spec.to', message: why };
}

/**
 * Code up only: a Promotion deploys a staging site's tested commit, so its source is never a
 * production site; into a staging site from production is named for what it would do.
 */
export function promotionRefusal(from: EnvironmentSite, to: EnvironmentSite): EnvironmentRefusal | undefined {
  if (from.environment !== 'production') return undefined;
  if (to.environment === 'staging') {
    return { rule: 'NoPromotionToStaging', field: 'spec.to', message: `code goes up only: site ${from.name} is production and site ${to.name} is staging; a Promotion never deploys production code to staging` };
  }
  return { rule: 'NoPromotionFromProduction', field: 'spec.from', message: `a Promotion deploys a staging site's tested commit: site ${from.name} is production` };
}
