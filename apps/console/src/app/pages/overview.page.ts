import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LiveLists } from '../core/live-list';
import { condition } from '../core/types';
import { AgePipe } from '../shared/age.pipe';
import { ErrorBoxComponent } from '../shared/error-box.component';
import { followClock } from '../shared/clock';
import { conditionSummary, type Node, type Site } from './sites/site-types';

const PHASES = ['PENDING', 'PROVISIONING', 'ACTIVE', 'DEPLOYING', 'CLONING', 'RESTORING', 'DELETING', 'FAILED'];

/** The fleet at a glance, live: nodes, sites by phase, and the sites that need someone now. */
@Component({
  selector: 'pl-overview',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, AgePipe, ErrorBoxComponent],
  template: `
    <h1>Fleet</h1>
    <pl-error-box [error]="nodes.error() ?? sites.error()" />
    <section aria-labelledby="attention-h">
      <h2 id="attention-h">Needs attention now</h2>
      @if (!sites.loaded()) { <p>Loading…</p> }
      @else if (attention().length === 0) { <p data-testid="all-well">Every site is Ready; nothing failed, stalled or drifted.</p> }
      @else {
        <ul class="attention">
          @for (a of attention(); track a.site.metadata.name) {
            <li data-testid="attention-row" [attr.data-site]="a.site.metadata.name">
              <a [routerLink]="['/sites', a.site.metadata.name]">{{ a.site.metadata.name }}</a>
              <span class="phase" data-testid="site-phase">{{ a.site.status?.phase ?? 'PENDING' }}</span>
              <span>{{ a.why }}</span>
            </li>
          }
        </ul>
      }
    </section>
    <section aria-labelledby="phases-h">
      <h2 id="phases-h">Sites by phase</h2>
      <ul class="phases">
        @for (p of byPhase(); track p.phase) {
          <li [attr.data-phase]="p.phase"><a [routerLink]="['/sites']" [queryParams]="{ q: p.phase }"><strong>{{ p.count }}</strong> {{ p.phase }}</a></li>
        }
      </ul>
      <p><a routerLink="/sites">All {{ sites.items().length }} sites</a></p>
    </section>
    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">Nodes</h2>
      <table>
        <thead><tr><th scope="col">Node</th><th scope="col">Ready</th><th scope="col">Load</th><th scope="col">Sites</th><th scope="col">Heartbeat</th></tr></thead>
        <tbody>
          @for (n of nodes.items(); track n.metadata.name) {
            <tr data-testid="node-row" [attr.data-node]="n.metadata.name">
              <td>{{ n.metadata.name }}@if (n.spec?.unschedulable) { <span> (cordoned)</span> }</td>
              <td>{{ ready(n) }}</td>
              <td>{{ n.status?.load ?? '–' }}</td>
              <td>{{ n.status?.sites ?? 0 }}</td>
              <td>{{ n.status?.lastHeartbeat | age: clock.now() }} ago</td>
            </tr>
          } @empty {
            <tr><td colspan="5">No nodes yet.</td></tr>
          }
        </tbody>
      </table>
    </section>
  `,
  styles: `.phases { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; } .phases a { display: block; padding: .4rem .7rem; border: 1px solid #d0d5dd; border-radius: 6px; background: #fff; color: inherit; text-decoration: none; } .attention li { margin: .25rem 0; } .attention .phase { font-weight: 600; margin: 0 .5rem; } table { border-collapse: collapse; background: #fff; } th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #eaecf0; }`,
})
export class OverviewPage {
  private readonly lists = inject(LiveLists);
  protected readonly clock = followClock();
  protected readonly nodes = this.lists.open<Node>('nodes');
  protected readonly sites = this.lists.open<Site>('sites');

  protected readonly byPhase = computed(() => {
    const counts = new Map(PHASES.map((p) => [p, 0]));
    for (const s of this.sites.items()) counts.set(s.status?.phase ?? 'PENDING', (counts.get(s.status?.phase ?? 'PENDING') ?? 0) + 1);
    return [...counts].map(([phase, count]) => ({ phase, count }));
  });

  /** FAILED, Stalled, Drifted, or not Ready (a site still being created is not a problem yet). */
  protected readonly attention = computed(() =>
    this.sites.items().flatMap((site) => {
      const why = attentionReason(site);
      return why ? [{ site, why }] : [];
    }),
  );

  protected readonly ready = (node: Node) => conditionSummary(node, 'Ready');
}

function attentionReason(site: Site): string | undefined {
  const phase = site.status?.phase ?? 'PENDING';
  const describe = (type: string) => {
    const c = condition(site, type);
    return `${type}: ${c?.reason ?? ''}${c?.message ? ` – ${c.message}` : ''}`;
  };
  if (phase === 'FAILED') return describe('Ready');
  if (condition(site, 'Stalled')?.status === 'True') return describe('Stalled');
  if (condition(site, 'Drifted')?.status === 'True') return describe('Drifted');
  if (phase !== 'PENDING' && phase !== 'PROVISIONING' && condition(site, 'Ready')?.status === 'False') return describe('Ready');
  return undefined;
}
