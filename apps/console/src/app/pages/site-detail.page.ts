import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, input, signal } from '@angular/core';
import { AuthService } from '../core/auth.service';
import { LiveLists, type LiveList } from '../core/live-list';
import { AgePipe } from '../shared/age.pipe';
import { ErrorBoxComponent } from '../shared/error-box.component';
import { followClock } from '../shared/clock';
import { SiteBackupsComponent } from './sites/site-backups.component';
import { SiteCommandsComponent } from './sites/site-commands.component';
import { SiteEnvironmentsComponent } from './sites/site-environments.component';
import { SiteEventsComponent } from './sites/site-events.component';
import { SiteOperationsComponent } from './sites/site-operations.component';
import { SiteReleasesComponent } from './sites/site-releases.component';
import { SiteSpecFormComponent } from './sites/site-spec-form.component';
import { SiteYamlComponent } from './sites/site-yaml.component';
import { conditionSummary, type Site } from './sites/site-types';

const TABS = ['Overview', 'Spec', 'YAML', 'Releases', 'Backups', 'Environments', 'Commands', 'Events'] as const;
type Tab = (typeof TABS)[number];

/** One site, live (its own watch): the header and conditions always; the rest by section. */
@Component({
  selector: 'pl-site-detail',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AgePipe, ErrorBoxComponent, SiteBackupsComponent, SiteCommandsComponent, SiteEnvironmentsComponent, SiteEventsComponent, SiteOperationsComponent, SiteReleasesComponent, SiteSpecFormComponent, SiteYamlComponent],
  template: `
    <pl-error-box [error]="live()?.error()" />
    @if (site(); as s) {
      <header class="site-head">
        <h1>{{ s.metadata.name }}</h1>
        <dl>
          <div><dt>Phase</dt><dd data-testid="site-phase">{{ s.status?.phase ?? 'PENDING' }}</dd></div>
          <div><dt>Ready</dt><dd data-testid="site-ready">{{ ready() }}</dd></div>
          <div><dt>Environment</dt><dd>{{ s.spec?.environment ?? 'production' }}</dd></div>
          <div><dt>Node</dt><dd>{{ s.status?.nodeName ?? s.spec?.nodeName ?? '–' }}</dd></div>
          <div><dt>Domains</dt><dd>{{ s.spec?.domains?.join(', ') }}</dd></div>
          <div><dt>URL</dt><dd>@if (s.status?.url; as url) { <a [href]="url" rel="noopener" target="_blank">{{ url }}</a> } @else { – }</dd></div>
          <div><dt>Release</dt><dd>{{ s.status?.currentRelease ?? '–' }}</dd></div>
          <div><dt>Generation</dt><dd data-testid="site-generation">{{ s.metadata.generation }} (observed {{ s.status?.observedGeneration ?? 0 }})</dd></div>
        </dl>
      </header>
      <section aria-labelledby="conditions-h">
        <h2 id="conditions-h">Conditions</h2>
        <table>
          <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
          <tbody>
            @for (c of s.status?.conditions ?? []; track c.type) {
              <tr [attr.data-condition]="c.type"><td>{{ c.type }}</td><td>{{ c.status }}</td><td>{{ c.reason }}</td><td>{{ c.message }}</td><td>{{ c.lastTransitionTime | age: clock.now() }}</td></tr>
            }
          </tbody>
        </table>
      </section>
      <nav class="tabs" aria-label="Site sections">
        @for (t of tabs(); track t) { <button type="button" [attr.aria-current]="tab() === t ? 'page' : null" (click)="tab.set(t)">{{ t }}</button> }
      </nav>
      <section class="panel">
        @switch (tab()) {
          @case ('Overview') { <pl-site-operations [site]="s" /> }
          @case ('Spec') { <pl-site-spec-form [site]="s" /> }
          @case ('YAML') { <pl-site-yaml [site]="s" /> }
          @case ('Releases') { <pl-site-releases [site]="s" /> }
          @case ('Backups') { <pl-site-backups [site]="s" /> }
          @case ('Environments') { <pl-site-environments [site]="s" /> }
          @case ('Commands') { <pl-site-commands [site]="s.metadata.name" /> }
          @case ('Events') { <pl-site-events [site]="s.metadata.name" /> }
        }
      </section>
    } @else if (live()?.loaded()) {
      <h1>{{ name() }}</h1>
      <p data-testid="site-missing">There is no site {{ name() }} (any more).</p>
    } @else {
      <h1>{{ name() }}</h1>
      <p>Loading…</p>
    }
  `,
  styles: `
    .site-head dl { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0; } .site-head dt { font-size: .75rem; color: #475467; } .site-head dd { margin: 0; font-weight: 600; }
    table { border-collapse: collapse; background: #fff; } th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eaecf0; }
    .tabs { display: flex; gap: .25rem; margin: 1rem 0 0; border-bottom: 1px solid #d0d5dd; }
    .tabs button { border: 1px solid #d0d5dd; border-bottom: none; background: #f2f4f7; padding: .35rem .8rem; border-radius: 4px 4px 0 0; }
    .tabs button[aria-current] { background: #fff; font-weight: 600; }
    .panel { background: #fff; padding: .5rem 1rem 1rem; border: 1px solid #d0d5dd; border-top: none; }
  `,
})
export class SiteDetailPage {
  /** The route's :name (component input binding). */
  readonly name = input.required<string>();
  private readonly auth = inject(AuthService);
  private readonly lists = inject(LiveLists);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly clock = followClock();
  protected readonly live = signal<LiveList<Site> | undefined>(undefined);
  protected readonly site = computed(() => this.live()?.items()[0]);
  protected readonly ready = computed(() => conditionSummary(this.site(), 'Ready'));
  protected readonly tab = signal<Tab>('Overview');
  /** Environments only changes things: a viewer does not get the section. */
  protected readonly tabs = computed(() => TABS.filter((t) => t !== 'Environments' || this.auth.canMutate()));

  constructor() {
    // The router keeps this page from one site to the next (/sites/a -> /sites/b): a new watch per name.
    effect((cleanup) => {
      const list = this.lists.open<Site>('sites', { fieldSelector: `metadata.name=${this.name()}` }, this.destroyRef);
      this.live.set(list);
      this.tab.set('Overview');
      cleanup(() => list.stop());
    });
  }
}
