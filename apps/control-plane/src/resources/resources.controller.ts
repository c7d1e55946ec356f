import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  buildTable,
  deleteOptionsSchema,
  formatPath,
  inListOrder,
  kindByPlural,
  listOrderKey,
  matchesLabels,
  toWireObject,
  withSiteCounts,
  type KindInfo,
  type Resource,
} from '@pressluft/domain';
import type { Request, Response } from 'express';
import { parseBody } from '../api/body.js';
import { encodeContinue, matchesSpecFilters, parseListQuery, parseWriteQuery, tableInclude, wantsTable, type ListQuery } from '../api/query.js';
import { authorize, type Verb } from '../auth/policy.js';
import { principalOf } from '../auth/auth.guard.js';
import { notFound, PressluftError } from '../common/errors.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { statusOf } from '../api/status.js';
import { auditedRequestOf, markAudited, type MutationVerb } from '../audit/request-audit.js';
import { changeOf, CreateResource, DeleteResource, mutationCode, PatchResource, ReplaceResource, type WriteResult } from './resource.commands.js';
import { ChangesExpired, ResourceStore } from './resource.store.js';
import { WatchHub } from './watch.hub.js';
import { WatchSlots } from './watch-slots.js';

const API = 'apis/pressluft.io/v1';
const POLL_MS = 1000;
const BOOKMARK_MS = 15_000;
/**
 * A watcher whose unread output passes this (beyond its initial list) is dropped, not buffered
 * without bound: it relists and watches again (kube-apiserver closes a watcher whose channel is full).
 */
const MAX_WATCH_BUFFER_BYTES = 4 * 1024 * 1024;

/** HTTP only: parse, authorise, dispatch, render. The rules live in the command handlers. */
@Controller(API)
export class ResourcesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: ResourceStore,
    private readonly hub: WatchHub,
    private readonly slots: WatchSlots,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private resolve(plural: string, verb: Verb, req: Request): KindInfo {
    const kind = kindByPlural(plural);
    if (!kind?.served) throw new PressluftError('NotFound', 'the server could not find the requested resource');
    if (!kind.verbs.includes(verb === 'watch' ? 'watch' : verb)) {
      throw new PressluftError('MethodNotAllowed', `${verb} is not allowed on ${kind.plural}`, [], { kind: kind.plural });
    }
    authorize(principalOf(req), verb, kind);
    return kind;
  }

  /** The older Kubernetes watch path: the same stream as a list with watch=true. */
  @Get('watch/:plural')
  async watchPath(@Param('plural') plural: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'watch', req);
    return this.watch(kind, parseListQuery({ ...query, watch: 'true' }, kind.kind), req, res);
  }

  @Get(':plural')
  async list(@Param('plural') plural: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, query['watch'] === 'true' || query['watch'] === '1' ? 'watch' : 'list', req);
    const options = parseListQuery(query, kind.kind);
    if (options.watch) return this.watch(kind, options, req, res);
    const { items, resourceVersion } = await this.store.list(kind.kind, { names: options.names, specFilters: options.specFilters });
    let selected = inListOrder(options.selector ? items.filter((i) => matchesLabels(options.selector ?? [], i.metadata.labels)) : items);
    if (options.continueAfter !== undefined) selected = selected.filter((i) => listOrderKey(i) > (options.continueAfter ?? ''));
    let next: string | undefined;
    if (options.limit !== undefined && selected.length > options.limit) {
      selected = selected.slice(0, options.limit);
      const last = selected[selected.length - 1];
      next = encodeContinue(last ? listOrderKey(last) : '');
    }
    selected = await this.served(selected);
    const listMeta = { resourceVersion, ...(next ? { continue: next } : {}) };
    if (wantsTable(req.headers.accept)) {
      res.json(buildTable(kind.kind, selected, this.clock.now(), listMeta, tableInclude(query)));
      return;
    }
    res.json({ apiVersion: 'pressluft.io/v1', kind: `${kind.kind}List`, metadata: listMeta, items: selected.map(toWireObject) });
  }

  @Get(':plural/:name')
  async get(@Param('plural') plural: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'get', req);
    const stored = await this.store.get(kind.kind, name);
    if (!stored) throw notFound(kind.plural, name);
    const [object = stored] = await this.served([stored]);
    if (wantsTable(req.headers.accept)) {
      res.json(buildTable(kind.kind, [object], this.clock.now(), { resourceVersion: object.metadata.resourceVersion }, tableInclude(query)));
      return;
    }
    res.json(toWireObject(object));
  }

  @Post(':plural')
  async create(@Param('plural') plural: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'create', req);
    const { value } = parseBody(req.body, req.headers['content-type'], 'object');
    const result = await this.commands.execute(new CreateResource(kind, value, { ...parseWriteQuery(query), principal: principalOf(req), request: auditedRequestOf(req) }));
    this.send(req, res, 'POST', result);
  }

  @Put(':plural/:name')
  async replace(@Param('plural') plural: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'update', req);
    const { value } = parseBody(req.body, req.headers['content-type'], 'object');
    const result = await this.commands.execute(new ReplaceResource(kind, name, value, { ...parseWriteQuery(query), principal: principalOf(req), request: auditedRequestOf(req) }));
    this.send(req, res, 'PUT', result);
  }

  @Patch(':plural/:name')
  async patch(@Param('plural') plural: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'patch', req);
    const { format, value } = parseBody(req.body, req.headers['content-type'], 'patch');
    const result = await this.commands.execute(
      new PatchResource(kind, name, format === 'json-patch' ? 'json' : 'merge', value, {
        ...parseWriteQuery(query),
        principal: principalOf(req),
        request: auditedRequestOf(req),
      }),
    );
    this.send(req, res, 'PATCH', result);
  }

  @Delete(':plural/:name')
  async remove(@Param('plural') plural: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const kind = this.resolve(plural, 'delete', req);
    const { dryRun } = parseWriteQuery(query);
    const options = deleteOptions(req);
    const result = await this.commands.execute(new DeleteResource(kind, name, options, { dryRun, principal: principalOf(req), request: auditedRequestOf(req) }));
    this.send(req, res, 'DELETE', result);
  }

  /** Objects as served: nodes with the count of their sites at the time of the read (withSiteCounts). */
  private async served<T extends Resource>(objects: T[]): Promise<T[]> {
    return objects.some((object) => object.kind === 'Node') ? withSiteCounts(objects, await this.store.sitesPerNode()) : objects;
  }

  /** The status says what happened to the object (mutationCode: the audit row committed with the write says the same). */
  private send(req: Request, res: Response, verb: MutationVerb, result: WriteResult): void {
    if (result.warnings.length > 0) {
      res.setHeader('Warning', result.warnings.map((w) => `299 - ${JSON.stringify(w)}`));
    }
    if (result.audited) markAudited(req);
    res.status(mutationCode(verb, changeOf(result))).json(toWireObject(result.object));
  }

  /** A stream of JSON lines: ADDED for the current objects unless resuming, then every change in order. */
  private async watch(kind: KindInfo, options: ListQuery, req: Request, res: Response): Promise<void> {
    const asTable = wantsTable(req.headers.accept);
    const include = tableInclude(req.query);
    const matches = (object: Resource) =>
      (!options.names || options.names.includes(object.metadata.name)) &&
      (!options.selector || matchesLabels(options.selector, object.metadata.labels)) &&
      matchesSpecFilters(object, options.specFilters);
    const encode = (type: string, object: Resource): string =>
      `${JSON.stringify({ type, object: asTable ? buildTable(kind.kind, [object], this.clock.now(), { resourceVersion: object.metadata.resourceVersion }, include) : toWireObject(object) })}\n`;

    let last: string;
    const initial: string[] = [];
    if (options.resourceVersion === undefined || options.resourceVersion === '0') {
      const listed = await this.store.list(kind.kind, { names: options.names, specFilters: options.specFilters });
      for (const item of await this.served(inListOrder(listed.items.filter(matches)))) initial.push(encode('ADDED', item));
      last = listed.resourceVersion;
    } else {
      last = options.resourceVersion;
    }

    const release = this.slots.take(principalOf(req).subject);
    res.status(200);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache, no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    let initialBytes = 0;
    for (const line of initial) {
      res.write(line);
      initialBytes += Buffer.byteLength(line);
    }
    // The initial list may be large; what is bounded is what piles up behind it.
    const maxUnread = initialBytes + MAX_WATCH_BUFFER_BYTES;

    let closed = false;
    let pumping = false;
    let again = false;
    const pump = async (): Promise<void> => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          for (;;) {
            const { changes, through } = await this.store.changesAfter([kind.kind], last);
            if (closed) break;
            const objects = await this.served(changes.map((change) => change.object));
            changes.forEach((change, i) => {
              const object = objects[i] ?? change.object;
              if (matches(object)) res.write(encode(change.type, object));
            });
            last = through;
            if (res.writableLength > maxUnread) {
              res.destroy();
              break;
            }
            if (changes.length === 0) break;
          }
        } while (again && !closed);
      } catch (error) {
        // Resuming from a compacted version: an ERROR event with 410 Expired, then the end (the client relists).
        if (error instanceof ChangesExpired) {
          res.end(`${JSON.stringify({ type: 'ERROR', object: statusOf(new PressluftError('Expired', error.message)) })}\n`);
        }
        // Anything else: the next notification or poll tries again; the position is kept.
      } finally {
        pumping = false;
      }
    };
    const unsubscribe = this.hub.subscribe(() => void pump());
    const poll = setInterval(() => void pump(), POLL_MS);
    const bookmarks = options.allowBookmarks
      ? setInterval(() => {
          res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: kind.kind, apiVersion: 'pressluft.io/v1', metadata: { resourceVersion: last } } })}\n`);
        }, BOOKMARK_MS)
      : undefined;
    const timeout = options.timeoutSeconds ? setTimeout(() => res.end(), options.timeoutSeconds * 1000) : undefined;
    const close = () => {
      closed = true;
      release();
      unsubscribe();
      clearInterval(poll);
      clearInterval(bookmarks);
      clearTimeout(timeout);
    };
    req.on('close', close);
    res.on('close', close);
    await pump();
  }
}

/** DeleteOptions from the body (optional): preconditions, validated like any other input. */
function deleteOptions(req: Request): { uid?: string; resourceVersion?: string } {
  const raw = req.body as unknown;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  const { value } = parseBody(raw, req.headers['content-type'] ?? 'application/json', 'object');
  const parsed = deleteOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const causes = parsed.error.issues.map((issue) => ({ field: formatPath(issue.path.filter((p) => typeof p !== 'symbol')), message: issue.message }));
    throw new PressluftError('BadRequest', `invalid DeleteOptions: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  }
  const preconditions = parsed.data.preconditions ?? {};
  return {
    ...(preconditions.uid !== undefined ? { uid: preconditions.uid } : {}),
    ...(preconditions.resourceVersion !== undefined ? { resourceVersion: preconditions.resourceVersion } : {}),
  };
}
