import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { LiveLists, type LiveList } from '../core/live-list';
import type { ApiObject } from '../core/types';
import { Clock } from '../shared/clock';
import { ErrorBoxComponent } from '../shared/error-box.component';

/** An Event on the wire: Kubernetes' shape, its fields at the top (libs/domain event.ts). */
interface EventFields {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly involvedObject: { readonly kind: string; readonly name: string };
  readonly count: number;
  readonly firstTimestamp: string;
  readonly lastTimestamp: string;
}
type ClusterEvent = ApiObject & EventFields;

/** The events timeline, live, newest first: by involved object on the server (sites/shop), by type and reason here; each links to its object. */
@Component({
  selector: 'pl-events',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, ErrorBoxComponent],
  template: `
    <h1>Events</h1>
    <form class="filters" (submit)="apply($event)" aria-label="Filter events">
      <label>Object (kind/name) <input name="object" data-testid="filter-object" [value]="objectInput()" (input)="objectInput.set($any($event.target).value)" placeholder="sites/shop" autocomplete="off" /></label>
      <label>Type
        <select name="type" data-testid="filter-type" (change)="type.set($any($event.target).value)">
          <option value="" [selected]="type() === ''">Normal and Warning</option>
          <option value="Normal" [selected]="type() === 'Normal'">Normal</option>
          <option value="Warning" [selected]="type() === 'Warning'">Warning</option>
        </select>
      </label>
      <label>Reason <input name="reason" data-testid="filter-reason" [value]="reason()" (input)="reason.set($any($event.target).value.trim())" placeholder="CommandStalled" autocomplete="off" /></label>
      <button type="submit">Filter</button>
    </form>
    <pl-error-box [error]="live()?.error()" />
    <table>
      <caption>{{ live()?.loaded() ? shown().length + ' events' + (involved() ? ' of ' + involved() : '') + ', live' : 'Loading…' }}</caption>
      <thead><tr><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Object</th><th scope="col">Message</th><th scope="col">Count</th><th scope="col">Last seen</th></tr></thead>
      <tbody>
        @for (e of shown(); track e.metadata.name) {
          <tr data-testid="event-row" [attr.data-reason]="e.reason" [class.warning]="e.type === 'Warning'">
            <td>@if (e.type === 'Warning') { <span aria-hidden="true">⚠ </span> }{{ e.type }}</td>
            <td>{{ e.reason }}</td>
            <td><a [routerLink]="link(e).path" [queryParams]="link(e).query">{{ plural(e) }}/{{ e.involvedObject?.name }}</a></td>
            <td>{{ e.message }}</td>
            <td>{{ e.count }}</td>
            <td><time [attr.datetime]="e.lastTimestamp" [attr.title]="e.lastTimestamp">{{ clock.age(e.lastTimestamp) }} ago</time></td>
          </tr>
        } @empty {
          @if (live()?.loaded()) { <tr><td colspan="6">No events match.</td></tr> }
        }
      </tbody>
    </table>
  `,
  styles: `.filters { display: flex; gap: 1rem; align-items: flex-end; margin-bottom: .75rem; flex-wrap: wrap; } label { display: flex; flex-direction: column; gap: .2rem; } table { border-collapse: collapse; width: 100%; background: #fff; } caption { text-align: left; color: #475467; padding: .25rem 0; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e4e7ec; vertical-align: top; } tr.warning td:first-child { color: #912018; font-weight: 600; }`,
})
export class EventsPage {
  protected readonly clock = inject(Clock);
  private readonly lists = inject(LiveLists);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly involved = signal('');
  protected readonly objectInput = signal('');
  protected readonly type = signal('');
  protected readonly reason = signal('');
  protected readonly live = signal<LiveList<ClusterEvent> | undefined>(undefined);
  protected readonly shown = computed(() =>
    [...(this.live()?.items() ?? [])]
      .filter((e) => (this.type() === '' || e.type === this.type()) && (this.reason() === '' || e.reason === this.reason()))
      .sort((a, b) => (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name)),
  );

  constructor() {
    this.clock.follow();
    // The filters live in the URL (links to an object's events, back and forward).
    inject(ActivatedRoute)
      .queryParamMap.pipe(takeUntilDestroyed())
      .subscribe((query) => {
        this.involved.set(query.get('involvedObject') ?? '');
        this.objectInput.set(this.involved());
        this.type.set(query.get('type') ?? '');
        this.reason.set(query.get('reason') ?? '');
      });
    // The API filters the list and its watch by ?involvedObject=<plural>/<name>: a new object, a new stream.
    effect((cleanup) => {
      const involved = this.involved();
      const list = untracked(() => this.lists.open<ClusterEvent>('events', involved ? { involvedObject: involved } : {}, this.destroyRef));
      this.live.set(list);
      cleanup(() => list.stop());
    });
  }

  protected plural(event: ClusterEvent): string {
    return `${(event.involvedObject.kind ?? '').toLowerCase()}s`;
  }

  /** Sites and commands have pages of their own; nodes their list; any other object its events. */
  protected link(event: ClusterEvent): { path: string[]; query: Record<string, string> } {
    const plural = this.plural(event);
    const name = event.involvedObject.name ?? '';
    if (plural === 'sites' || plural === 'commands') return { path: [`/${plural}`, name], query: {} };
    if (plural === 'nodes') return { path: ['/nodes'], query: {} };
    return { path: ['/events'], query: { involvedObject: `${plural}/${name}` } };
  }

  protected apply(event: Event): void {
    event.preventDefault();
    void this.router.navigate([], { queryParams: { involvedObject: this.objectInput().trim() || null, type: this.type() || null, reason: this.reason() || null }, replaceUrl: true });
  }
}
