import { ScrollingModule } from '@angular/cdk/scrolling';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { AuthService } from '../core/auth.service';
import { LiveLists, type LiveList } from '../core/live-list';
import { condition } from '../core/types';
import { ConditionsComponent } from '../shared/conditions.component';
import { ErrorBoxComponent } from '../shared/error-box.component';
import type { Site } from './sites/site-types';

type SortKey = 'name' | 'phase';

/**
 * Every site, live, in a virtual scroll (only the rows in view are in the DOM: thousands stay
 * fast). The label selector goes to the API (the live list's query); the search is local.
 */
@Component({
  selector: 'pl-sites',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ScrollingModule, RouterLink, ConditionsComponent, ErrorBoxComponent],
  template: `
    <div class="head">
      <h1>Sites</h1>
      @if (auth.canMutate()) { <a class="button" routerLink="/sites/new" data-testid="new-site">New site</a> }
    </div>
    <form class="filters" role="search" (submit)="$event.preventDefault(); applySelector(selectorInput.value)">
      <label>Label selector <input #selectorInput name="labelSelector" [value]="selector()" placeholder="team=web" data-testid="label-selector" /></label>
      <button type="submit">Apply</button>
      <label>Search <input type="search" name="q" [value]="search()" (input)="search.set($any($event.target).value)" placeholder="name, domain or phase" data-testid="site-search" /></label>
    </form>
    <pl-error-box [error]="live().error()" />
    <p aria-live="polite" data-testid="site-count">{{ shown().length }} of {{ live().items().length }} sites</p>
    <div role="table" aria-label="Sites" [attr.aria-rowcount]="shown().length + 1" class="table">
      <div role="rowgroup">
        <div role="row" class="row header">
          <span role="columnheader" [attr.aria-sort]="ariaSort('name')"><button type="button" (click)="sortBy('name')">Name{{ arrow('name') }}</button></span>
          <span role="columnheader" [attr.aria-sort]="ariaSort('phase')"><button type="button" (click)="sortBy('phase')">Phase{{ arrow('phase') }}</button></span>
          <span role="columnheader">Ready</span><span role="columnheader">Node</span><span role="columnheader">Domains</span>
          <span role="columnheader">Release</span><span role="columnheader">Conditions</span>
        </div>
      </div>
      <cdk-virtual-scroll-viewport itemSize="44" class="viewport" role="rowgroup" data-testid="sites-viewport">
        <div *cdkVirtualFor="let s of shown(); trackBy: byName" role="row" class="row" data-testid="site-row" [attr.data-site]="s.metadata.name">
          <span role="cell"><a [routerLink]="['/sites', s.metadata.name]">{{ s.metadata.name }}</a></span>
          <span role="cell" data-testid="site-phase">{{ s.status?.phase ?? 'PENDING' }}</span>
          <span role="cell">{{ ready(s) }}</span>
          <span role="cell">{{ s.status?.nodeName ?? s.spec?.nodeName ?? '–' }}</span>
          <span role="cell" class="clip">{{ s.spec?.domains?.join(', ') }}</span>
          <span role="cell">{{ s.status?.currentRelease ?? '–' }}</span>
          <span role="cell"><pl-conditions [conditions]="s.status?.conditions ?? []" /></span>
        </div>
      </cdk-virtual-scroll-viewport>
    </div>
  `,
  styles: `
    .head { display: flex; align-items: center; justify-content: space-between; }
    .button { background: #1849a9; color: #fff; padding: .4rem .8rem; border-radius: 4px; text-decoration: none; }
    .filters { display: flex; gap: .75rem; align-items: end; flex-wrap: wrap; margin-bottom: .5rem; } .filters label { display: flex; flex-direction: column; font-size: .85rem; }
    .table { background: #fff; border: 1px solid #eaecf0; }
    .viewport { height: 65vh; }
    .row { display: grid; grid-template-columns: 12rem 8rem 5rem 7rem 1fr 10rem 18rem; gap: .5rem; align-items: center; height: 44px; padding: 0 .5rem; border-bottom: 1px solid #eaecf0; box-sizing: border-box; }
    .header { font-weight: 600; } .header button { font: inherit; background: none; border: none; padding: 0; cursor: pointer; }
    .clip { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  `,
})
export class SitesPage {
  protected readonly auth = inject(AuthService);
  private readonly lists = inject(LiveLists);
  private readonly destroyRef = inject(DestroyRef);
  private readonly router = inject(Router);
  private readonly query = inject(ActivatedRoute).snapshot.queryParamMap;
  protected readonly selector = signal(this.query.get('labelSelector') ?? '');
  protected readonly search = signal(this.query.get('q') ?? '');
  protected readonly sort = signal<{ key: SortKey; descending: boolean }>({ key: 'name', descending: false });
  protected readonly live = signal<LiveList<Site>>(this.open(this.selector()));

  protected readonly shown = computed(() => {
    const needle = this.search().trim().toLowerCase();
    const { key, descending } = this.sort();
    const matches = this.live()
      .items()
      .filter((s) => needle === '' || s.metadata.name.includes(needle) || (s.status?.phase ?? 'PENDING').toLowerCase() === needle || (s.spec?.domains ?? []).some((d) => d.includes(needle)));
    const value = (s: Site) => (key === 'name' ? s.metadata.name : `${s.status?.phase ?? 'PENDING'} ${s.metadata.name}`);
    return matches.sort((a, b) => value(a).localeCompare(value(b)) * (descending ? -1 : 1));
  });

  protected byName = (_: number, s: Site) => s.metadata.name;

  /** A new selector is a new list from the API (server-side filtering), kept in the URL. */
  protected applySelector(value: string): void {
    this.selector.set(value.trim());
    this.live().stop();
    this.live.set(this.open(value.trim()));
    void this.router.navigate([], { queryParams: { labelSelector: value.trim() || null }, queryParamsHandling: 'merge', replaceUrl: true });
  }

  protected sortBy(key: SortKey): void {
    this.sort.update((s) => ({ key, descending: s.key === key ? !s.descending : false }));
  }

  protected ariaSort(key: SortKey): string | null {
    return this.sort().key === key ? (this.sort().descending ? 'descending' : 'ascending') : null;
  }

  protected arrow(key: SortKey): string {
    return this.sort().key === key ? (this.sort().descending ? ' ▼' : ' ▲') : '';
  }

  protected ready(site: Site): string {
    return condition(site, 'Ready')?.status ?? 'Unknown';
  }

  private open(selector: string): LiveList<Site> {
    return this.lists.open<Site>('sites', selector ? { labelSelector: selector } : {}, this.destroyRef);
  }
}
