import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, input, signal, untracked } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { ApiError } from '../core/api-error';
import { ApiService } from '../core/api.service';
import { AuthService } from '../core/auth.service';
import { LiveLists, type LiveList } from '../core/live-list';
import { asApiError } from '../shared/as-api-error';
import { Clock } from '../shared/clock';
import { CommandProgressComponent } from '../shared/command-progress.component';
import { ConfirmNameComponent } from '../shared/confirm-name.component';
import { ErrorBoxComponent } from '../shared/error-box.component';
import type { Command } from './ops/command-types';

type Action = 'retry' | 'abandon';

/** One command, live: its progress and log as the agent streams them, its spec and times; a stalled one retried or abandoned by an operator. */
@Component({
  selector: 'pl-command-detail',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, CommandProgressComponent, ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <p><a routerLink="/commands">← Commands</a></p>
    <h1>Command <code>{{ name() }}</code></h1>
    <pl-error-box [error]="live()?.error() ?? error()" />
    <pl-command-progress [name]="name()" />
    @if (command(); as c) {
      @if (c.status?.state === 'STALLED' && auth.canMutate()) {
        <div class="actions">
          <button type="button" data-testid="retry" (click)="confirming.set('retry')">Retry</button>
          <button type="button" data-testid="abandon" (click)="confirming.set('abandon')">Abandon</button>
        </div>
      }
      @if (confirming(); as action) {
        <pl-confirm-name [name]="name()" [title]="action === 'retry' ? 'Retry command' : 'Abandon command'" [consequence]="consequence(action)" [action]="action === 'retry' ? 'Retry' : 'Abandon'" (confirmed)="run(action)" (cancelled)="confirming.set(undefined)" />
      }
      <h2>Spec</h2>
      <dl data-testid="command-spec">
        <dt>Operation</dt><dd>{{ c.spec?.operation }}</dd>
        <dt>Site</dt><dd><a [routerLink]="['/sites', c.spec?.site]">{{ c.spec?.site }}</a></dd>
        <dt>Node</dt><dd>{{ c.spec?.node }}</dd>
        <dt>Fence</dt><dd>{{ c.spec?.fence }}</dd>
        <dt>Generation</dt><dd>{{ c.spec?.generation }}</dd>
        @if (c.spec?.backup; as backup) { <dt>Backup</dt><dd>{{ backup }}</dd> }
        @if (c.spec?.restore; as restore) { <dt>Restore</dt><dd>{{ restore }}</dd> }
      </dl>
      <h2>Times</h2>
      <dl>
        @for (t of times(); track t.label) { <dt>{{ t.label }}</dt><dd>@if (t.at) { <time [attr.datetime]="t.at">{{ t.at }}</time> ({{ clock.age(t.at) }} ago) } @else { — }</dd> }
      </dl>
      @if (c.status; as st) {
        @if (st.reason || st.message) {
          <h2>Outcome</h2>
          <p data-testid="command-message"><strong>{{ st.reason }}</strong> {{ st.message }}</p>
        }
      }
      <p><a [routerLink]="['/events']" [queryParams]="{ involvedObject: 'commands/' + name() }">Events of this command</a></p>
    } @else if (live()?.loaded()) {
      <p>No command named {{ name() }}.</p>
    }
  `,
  styles: `dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { font-weight: 600; } dd { margin: 0; } .actions { display: flex; gap: .5rem; margin: .5rem 0; }`,
})
export class CommandDetailPage {
  protected readonly auth = inject(AuthService);
  protected readonly clock = inject(Clock);
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  private readonly lists = inject(LiveLists);
  private readonly destroyRef = inject(DestroyRef);
  /** The route's :name (a retry navigates to the new command: the same page, another name). */
  readonly name = input.required<string>();
  protected readonly live = signal<LiveList<Command> | undefined>(undefined);
  protected readonly command = computed(() => this.live()?.items()[0]);
  protected readonly confirming = signal<Action | undefined>(undefined);
  protected readonly error = signal<ApiError | undefined>(undefined);
  protected readonly times = computed(() => {
    const c = this.command();
    return [
      { label: 'Created', at: c?.metadata.creationTimestamp },
      { label: 'Dispatched', at: c?.status?.dispatchedAt },
      { label: 'Started', at: c?.status?.startedAt },
      { label: 'Last heartbeat', at: c?.status?.lastHeartbeat },
      { label: 'Finished', at: c?.status?.finishedAt },
    ];
  });

  constructor() {
    this.clock.follow();
    effect((cleanup) => {
      const name = this.name();
      const list = untracked(() => this.lists.open<Command>('commands', { fieldSelector: `metadata.name=${name}` }, this.destroyRef));
      this.live.set(list);
      cleanup(() => list.stop());
    });
  }

  protected consequence(action: Action): string {
    return action === 'retry'
      ? `A new command runs the same operation with the next fence; ${this.name()} counts as failed.`
      : `${this.name()} counts as failed and nothing is retried by itself; the site shows FAILED.`;
  }

  protected async run(action: Action): Promise<void> {
    this.confirming.set(undefined);
    this.error.set(undefined);
    try {
      const answer = await this.api.action('commands', this.name(), action);
      if (action === 'retry') await this.router.navigate(['/commands', answer.metadata.name]);
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }
}
