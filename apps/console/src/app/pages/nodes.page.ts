import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { ApiError } from '../core/api-error';
import { ApiService } from '../core/api.service';
import { AuthService } from '../core/auth.service';
import { LiveLists } from '../core/live-list';
import type { ApiObject, Condition } from '../core/types';
import { asApiError } from '../shared/as-api-error';
import { Clock } from '../shared/clock';
import { ConfirmNameComponent } from '../shared/confirm-name.component';
import { ErrorBoxComponent } from '../shared/error-box.component';
import { JoinTokensComponent } from './ops/join-tokens.component';

interface NodeSpec {
  readonly provider?: string;
  readonly unschedulable?: boolean;
}
interface NodeStatus {
  readonly agentVersion?: string;
  readonly lastHeartbeat?: string;
  readonly load?: number;
  readonly capacity?: { readonly cpu: number; readonly memory: string };
  readonly sites?: number;
}
type Node = ApiObject<NodeSpec, NodeStatus>;

/** The nodes, live: phase, Ready with its reason, load, capacity, sites, heartbeat age, agent version; admins cordon and add nodes. */
@Component({
  selector: 'pl-nodes',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, ErrorBoxComponent, ConfirmNameComponent, JoinTokensComponent],
  template: `
    <h1>Nodes</h1>
    <pl-error-box [error]="live.error() ?? error()" />
    @if (cordoning(); as n) {
      <pl-confirm-name [name]="n" title="Cordon node" [consequence]="'No new site is scheduled on ' + n + '; its sites keep running there.'" action="Cordon" (confirmed)="setUnschedulable(n, true)" (cancelled)="cordoning.set(undefined)" />
    }
    <table aria-describedby="nodes-caption">
      <caption id="nodes-caption">{{ live.loaded() ? nodes().length + ' nodes, live' : 'Loading…' }}</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Phase</th><th scope="col">Ready</th><th scope="col">Load</th><th scope="col">Capacity</th><th scope="col">Sites</th><th scope="col">Heartbeat</th><th scope="col">Agent</th><th scope="col">Scheduling</th>
          @if (auth.isAdmin()) { <th scope="col"><span class="sr-only">Actions</span></th> }
        </tr>
      </thead>
      <tbody>
        @for (n of nodes(); track n.metadata.name) {
          <tr data-testid="node-row" [attr.data-node]="n.metadata.name">
            <td><a [routerLink]="['/events']" [queryParams]="{ involvedObject: 'nodes/' + n.metadata.name }">{{ n.metadata.name }}</a></td>
            <td data-testid="node-phase">{{ n.status?.phase ?? 'PENDING' }}</td>
            <td data-testid="node-ready" [class.bad]="ready(n)?.status !== 'True'">{{ ready(n)?.status ?? 'Unknown' }}@if (ready(n)?.reason; as r) { <span class="reason"> · {{ r }}</span> }</td>
            <td>{{ n.status?.load ?? '—' }}</td>
            <td>@if (n.status?.capacity; as c) { {{ c.cpu }} CPU · {{ c.memory }} } @else { — }</td>
            <td>{{ n.status?.sites ?? 0 }}</td>
            <td>{{ clock.age(n.status?.lastHeartbeat) }}@if (n.status?.lastHeartbeat) { ago }</td>
            <td>{{ n.status?.agentVersion ?? '—' }}</td>
            <td data-testid="node-scheduling">@if (n.spec?.unschedulable) { <strong class="bad">Cordoned</strong> } @else { Schedulable }</td>
            @if (auth.isAdmin()) {
              <td>
                @if (n.spec?.unschedulable) {
                  <button type="button" data-testid="uncordon" (click)="setUnschedulable(n.metadata.name, false)" [attr.aria-label]="'Uncordon ' + n.metadata.name">Uncordon</button>
                } @else {
                  <button type="button" data-testid="cordon" (click)="cordoning.set(n.metadata.name)" [attr.aria-label]="'Cordon ' + n.metadata.name">Cordon</button>
                }
              </td>
            }
          </tr>
        } @empty {
          @if (live.loaded()) { <tr><td colspan="10">No nodes yet.</td></tr> }
        }
      </tbody>
    </table>
    @if (auth.isAdmin()) { <pl-join-tokens /> }
  `,
  styles: `table { border-collapse: collapse; width: 100%; background: #fff; } caption { text-align: left; color: #475467; padding: .25rem 0; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e4e7ec; } .bad { color: #912018; } .reason { color: #475467; font-size: .85rem; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class NodesPage {
  protected readonly auth = inject(AuthService);
  protected readonly clock = inject(Clock);
  private readonly api = inject(ApiService);
  protected readonly live = inject(LiveLists).open<Node>('nodes');
  protected readonly nodes = computed(() => [...this.live.items()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)));
  protected readonly cordoning = signal<string | undefined>(undefined);
  protected readonly error = signal<ApiError | undefined>(undefined);

  constructor() {
    this.clock.follow();
  }

  protected ready(node: Node): Condition | undefined {
    return node.status?.conditions?.find((c) => c.type === 'Ready');
  }

  /** Cordon (true) or uncordon: a merge patch of spec.unschedulable; the row changes through the watch. */
  protected async setUnschedulable(name: string, unschedulable: boolean): Promise<void> {
    this.cordoning.set(undefined);
    this.error.set(undefined);
    try {
      await this.api.patch('nodes', name, { spec: { unschedulable } });
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }
}
