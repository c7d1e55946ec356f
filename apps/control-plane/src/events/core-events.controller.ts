import { Controller, Get, Query, Req } from '@nestjs/common';
import { coreEventMatches, inListOrder, kindByName, parseCoreEventSelector, toCoreEvent } from '@pressluft/domain';
import type { Request } from 'express';
import { principalOf } from '../auth/auth.guard.js';
import { authorize } from '../auth/policy.js';
import { PressluftError } from '../common/errors.js';
import { ResourceStore } from '../resources/resource.store.js';

/**
 * A read-only core/v1 view of our Events, where kubectl looks them up: `kubectl describe site
 * shop` lists `/api/v1/events?fieldSelector=involvedObject.name=shop,involvedObject.kind=Site,...`
 * (our objects are cluster-scoped: no namespace). The same events, the same permission as
 * listing events.pressluft.io; oldest first, in one page (limit is not honoured and no continue
 * token is given: kubectl follows one when there is one). Everything else is served at
 * /apis/pressluft.io/v1/events.
 */
@Controller('api/v1/events')
export class CoreEventsController {
  constructor(private readonly store: ResourceStore) {}

  @Get()
  async list(@Query() query: Record<string, unknown>, @Req() req: Request): Promise<Record<string, unknown>> {
    const events = kindByName('Event');
    if (!events?.served) throw new PressluftError('NotFound', 'the server could not find the requested resource');
    authorize(principalOf(req), 'list', events);
    if (query['watch'] !== undefined) throw new PressluftError('MethodNotAllowed', 'the core/v1 events view is not watched: watch events.pressluft.io', [], { kind: 'events' });
    const raw = query['fieldSelector'] ?? '';
    if (typeof raw !== 'string') throw badSelector('must be given once, as a string');
    const parsed = parseCoreEventSelector(raw);
    if (!parsed.ok) throw badSelector(parsed.error);
    const { selector } = parsed;
    const specFilters = [
      ...(selector['involvedObject.kind'] !== undefined ? [{ path: ['involvedObject', 'kind'], value: selector['involvedObject.kind'] }] : []),
      ...(selector['involvedObject.name'] !== undefined ? [{ path: ['involvedObject', 'name'], value: selector['involvedObject.name'] }] : []),
    ];
    const { items, resourceVersion } = await this.store.list('Event', { specFilters });
    return { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion }, items: inListOrder(items.filter((event) => coreEventMatches(selector, event))).map(toCoreEvent) };
  }
}

const badSelector = (message: string) => new PressluftError('BadRequest', `invalid query parameter fieldSelector: ${message}`, [{ field: 'fieldSelector', message }]);
