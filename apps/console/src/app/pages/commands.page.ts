import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, DestroyRef } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { LiveLists, type LiveList } from '../core/live-list';
import { Clock } from '../shared/clock';
import { ErrorBoxComponent } from '../shared/error-box.component';
import { COMMAND_STATES, needsAttention, newestFirst, type Command } from './ops/command-types';

/** Every command, live, newest first: filtered by site on the server (its watch too) and by state here; stalled and failed ones stand out. */
@Component({
  selector: 'pl-commands',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, ErrorBoxComponent],
  template: `
    <h1>Commands</h1>
    <form class="filters" (submit)="apply($event)" aria-label="Filter commands">
      <label>Site <input name="site" data-testid="filter-site" [value]="siteInput()" (input)="siteInput.set($any($event.target).value)" placeholder="all sites" autocomplete="off" /></label>
      <label>State
        <select name="state" data-testid="filter-state" (change)="state.set($any($event.target).value)">
          <option value="" [selected]="state() === ''">all states</option>
          @for (s of states; track s) { <option [value]="s" [selected]="state() === s">{{ s }}</option> }
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
    <pl-error-box [error]="live()?.error()" />
    <table>
      <caption>{{ live()?.loaded() ? shown().length + ' of ' + (live()?.items()?.length ?? 0) + ' commands, live' : 'Loading…' }}</caption>
      <thead><tr><th scope="col">Command</th><th scope="col">Operation</th><th scope="col">Site</th><th scope="col">Node</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Age</th></tr></thead>
      <tbody>
        @for (c of shown(); track c.metadata.name) {
          <tr data-testid="command-row" [attr.data-command]="c.metadata.name" [class.attention]="attention(c)">
            <td><a [routerLink]="['/commands', c.metadata.name]">{{ c.metadata.name }}</a></td>
            <td>{{ c.spec?.operation }}</td>
            <td><a [routerLink]="['/sites', c.spec?.site]">{{ c.spec?.site }}</a></td>
            <td>{{ c.spec?.node }}</td>
            <td data-testid="command-state">@if (attention(c)) { <span aria-hidden="true">⚠ </span> }<strong>{{ c.status?.state ?? 'PENDING' }}</strong></td>
            <td>@if (c.status?.progress; as p) { {{ p.step }} {{ p.percent }}% }</td>
            <td>{{ clock.age(c.metadata.creationTimestamp) }}</td>
          </tr>
        } @empty {
          @if (live()?.loaded()) { <tr><td colspan="7">No commands{{ site() ? ' for site ' + site() : '' }}{{ state() ? ' in state ' + state() : '' }}.</td></tr> }
        }
      </tbody>
    </table>
  `,
  styles: `.filters { display: flex; gap: 1rem; align-items: flex-end; margin-bottom: .75rem; } label { display: flex; flex-direction: column; gap: .2rem; } table { border-collapse: collapse; width: 100%; background: #fff; } caption { text-align: left; color: #475467; padding: .25rem 0; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e4e7ec; } tr.attention { background: #fef3f2; } tr.attention strong { color: #912018; }`,
})
export class CommandsPage {
  protected readonly clock = inject(Clock);
  private readonly lists = inject(LiveLists);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly states = COMMAND_STATES;
  protected readonly site = signal('');
  protected readonly siteInput = signal('');
  protected readonly state = signal('');
  protected readonly live = signal<LiveList<Command> | undefined>(undefined);
  protected readonly shown = computed(() => newestFirst(this.live()?.items() ?? []).filter((c) => this.state() === '' || c.status?.state === this.state()));
  protected readonly attention = needsAttention;

  constructor() {
    this.clock.follow();
    // The filters live in the URL (a site's link to its commands, back and forward).
    inject(ActivatedRoute)
      .queryParamMap.pipe(takeUntilDestroyed())
      .subscribe((query) => {
        this.site.set(query.get('site') ?? '');
        this.siteInput.set(this.site());
        this.state.set(query.get('state') ?? '');
      });
    // A new site filter is a new list and watch (the API filters both by ?site=).
    effect((cleanup) => {
      const site = this.site();
      const list = untracked(() => this.lists.open<Command>('commands', site ? { site } : {}, this.destroyRef));
      this.live.set(list);
      cleanup(() => list.stop());
    });
  }

  protected apply(event: Event): void {
    event.preventDefault();
    void this.router.navigate([], { queryParams: { site: this.siteInput().trim() || null, state: this.state() || null }, replaceUrl: true });
  }
}
