import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import {
  busyOperation,
  kindByName,
  RELEASE_ID_PATTERN,
  TERMINAL_COMMAND_STATES,
  toWireObject,
  type KindInfo,
  type SitePhase,
} from '@pressluft/domain';
import type { Request } from 'express';
import { parseBody } from '../api/body.js';
import { auditEntryOf, insertAudit, markAudited } from '../audit/request-audit.js';
import { principalOf } from '../auth/auth.guard.js';
import { authorize } from '../auth/policy.js';
import { conflict, notFound, PressluftError } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, type ResourceTransaction } from '../resources/resource.store.js';
import { commandName, issueCommand, type Site } from './command.issuer.js';
import { OutboxRelay } from './outbox.relay.js';

const SITE_KIND = kindByName('Site') as KindInfo;

/** The rollback request body: nothing (the previous release) or {"release": "<id>"}. */
function releaseOf(req: Request): string | undefined {
  const raw = req.body as unknown;
  if (raw === undefined || (Buffer.isBuffer(raw) && raw.length === 0)) return undefined;
  const { value } = parseBody(raw, req.headers['content-type'], 'object');
  const body = value as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => key !== 'release');
  if (unknown.length > 0) throw new PressluftError('BadRequest', `unknown fields: ${unknown.join(', ')}`, unknown.map((field) => ({ field, message: 'unknown field' })));
  const release = body['release'];
  if (release === undefined) return undefined;
  if (typeof release !== 'string' || !RELEASE_ID_PATTERN.test(release)) {
    throw new PressluftError('Invalid', 'Rollback is invalid: release: must be a release id like 20261124T101500Z', [{ field: 'release', message: 'must be a release id like 20261124T101500Z' }]);
  }
  return release;
}

/**
 * Site operations that are not spec changes, each a fenced command (one mutation per site in
 * flight): POST /apis/pressluft.io/v1/sites/{name}/rollback (RollbackSite; the site goes
 * DEPLOYING), /rotate-credentials (RotateCredentials beside the ACTIVE site) and /check-drift
 * (CheckDrift beside the ACTIVE site: the node fingerprints it now; the control plane compares
 * the result with what it expects and sets the Drifted condition).
 */
@Controller('apis/pressluft.io/v1/sites/:name')
export class SiteActionsController {
  constructor(
    private readonly store: ResourceStore,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('rollback')
  @HttpCode(201)
  async rollback(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', SITE_KIND);
    const release = releaseOf(req);
    const now = this.clock.now();
    const audit = auditEntryOf(req, principal.subject, 201);
    const issued = await this.store.transaction(async (tx) => {
      const { site, node } = await idleSite(tx, name, ['ACTIVE', 'FAILED']);
      const { currentRelease, releases } = site.status;
      if (release !== undefined) {
        if (release === currentRelease) throw conflict('sites', name, `release ${release} is the current release`);
        if (!releases.includes(release)) throw conflict('sites', name, `release ${release} is not on the node (releases: ${releases.join(', ') || 'none'})`);
      } else if (!releases.some((r) => currentRelease !== undefined && r < currentRelease)) {
        throw conflict('sites', name, `there is no release before ${currentRelease ?? 'the current one'} to roll back to`);
      }
      const command = await issueCommand(tx, site, node, 'RollbackSite', 'DEPLOYING', now, release ? { release } : {});
      await recordEvent(tx, site, 'Normal', 'RollbackRequested', `rollback to ${release ?? 'the previous release'} requested by ${principal.subject}`, now);
      await insertAudit(tx.manager, audit);
      return command;
    });
    markAudited(req);
    this.relay.poke();
    return toWireObject(issued);
  }

  /** Drift now instead of at the node's next report: a CheckDrift command beside the site. */
  @Post('check-drift')
  @HttpCode(201)
  async checkDrift(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', SITE_KIND);
    const now = this.clock.now();
    const audit = auditEntryOf(req, principal.subject, 201);
    const issued = await this.store.transaction(async (tx) => {
      // Drift is judged for ACTIVE sites only (a FAILED one has not been converged).
      const { site, node } = await idleSite(tx, name, ['ACTIVE']);
      const command = await issueCommand(tx, site, node, 'CheckDrift', site.status.phase, now);
      await insertAudit(tx.manager, audit);
      return command;
    });
    markAudited(req);
    this.relay.poke();
    return toWireObject(issued);
  }

  /** A new database password for the site, set on its node (the secret never leaves the node). */
  @Post('rotate-credentials')
  @HttpCode(201)
  async rotateCredentials(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', SITE_KIND);
    const now = this.clock.now();
    const audit = auditEntryOf(req, principal.subject, 201);
    const issued = await this.store.transaction(async (tx) => {
      const { site, node } = await idleSite(tx, name, ['ACTIVE']);
      const command = await issueCommand(tx, site, node, 'RotateCredentials', site.status.phase, now);
      await recordEvent(tx, site, 'Normal', 'RotationRequested', `database credential rotation requested by ${principal.subject}`, now);
      await insertAudit(tx.manager, audit);
      return command;
    });
    markAudited(req);
    this.relay.poke();
    return toWireObject(issued);
  }
}

/** The site, locked, when it may take a new operation now: one in a phase of `phases`, on a node, no command in flight. */
async function idleSite(tx: ResourceTransaction, name: string, phases: readonly SitePhase[]): Promise<{ site: Site; node: string }> {
  const site = await tx.get('Site', name, { lock: true });
  if (!site) throw notFound('sites', name);
  if (site.metadata.deletionTimestamp) throw conflict('sites', name, 'the site is being deleted');
  const phase = site.status.phase;
  if (!phases.includes(phase)) throw conflict('sites', name, `the site is busy: ${busyOperation(phase) ?? phase.toLowerCase()} is in progress`);
  const node = site.status.nodeName;
  if (!node) throw conflict('sites', name, 'the site is not on a node yet');
  const latest = site.status.fence > 0 ? await tx.get('Command', commandName(name, site.status.fence)) : undefined;
  if (latest && !TERMINAL_COMMAND_STATES.includes(latest.status.state)) {
    throw conflict('sites', name, `the site is busy: ${latest.spec.operation} (${latest.metadata.name}) is ${latest.status.state}`);
  }
  return { site, node };
}
