import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, signal, type OnInit } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiService } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { LiveLists, type LiveList } from '../../core/live-list';
import { AgePipe } from '../../shared/age.pipe';
import { CommandProgressComponent } from '../../shared/command-progress.component';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { followClock } from '../../shared/clock';
import { ActionState } from './action-state';
import { RUNNING_COMMAND_STATES, type Command } from './site-types';

/** The site's commands, live and newest first; the newest running one with its progress and log; retry or abandon a STALLED one (confirmed). */
@Component({
  selector: 'pl-site-commands',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, AgePipe, CommandProgressComponent, ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <h2>Commands</h2>
    @if (running(); as r) { <pl-command-progress [name]="r.metadata.name" /> }
    @if (state.confirming(); as c) {
      <pl-confirm-name [name]="c.split(' ')[1] ?? ''" [title]="c.startsWith('abandon') ? 'Abandon command' : 'Retry command'" [consequence]="c.startsWith('abandon') ? 'The command is given up: the site is marked as needing attention; nothing more is sent to the node.' : 'The command is sent to the node again.'" [action]="c.startsWith('abandon') ? 'Abandon' : 'Retry'" (confirmed)="act(c)" (cancelled)="state.confirming.set(undefined)" />
    }
    <pl-error-box [error]="state.error()" />
    <table>
      <thead><tr><th scope="col">Command</th><th scope="col">Operation</th><th scope="col">State</th><th scope="col">Age</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        @for (c of commands(); track c.metadata.name) {
          <tr data-testid="command-row" [attr.data-command]="c.metadata.name">
            <td><a [routerLink]="['/commands', c.metadata.name]">{{ c.metadata.name }}</a></td>
            <td>{{ c.spec?.operation }}</td>
            <td data-testid="command-state">{{ c.status?.state ?? 'PENDING' }}@if (c.status?.reason) { <span> ({{ c.status?.reason }})</span> }</td>
            <td>{{ c.metadata.creationTimestamp | age: clock.now() }}</td>
            <td>
              @if (auth.canMutate() && c.status?.state === 'STALLED') {
                <button type="button" (click)="state.confirming.set('retry ' + c.metadata.name)">Retry</button>
                <button type="button" (click)="state.confirming.set('abandon ' + c.metadata.name)">Abandon</button>
              }
            </td>
          </tr>
        } @empty { <tr><td colspan="5">No commands yet.</td></tr> }
      </tbody>
    </table>
  `,
  styles: `table { border-collapse: collapse; background: #fff; } th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eaecf0; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class SiteCommandsComponent implements OnInit {
  readonly site = input.required<string>();
  protected readonly auth = inject(AuthService);
  protected readonly clock = followClock();
  private readonly api = inject(ApiService);
  private readonly lists = inject(LiveLists);
  private readonly destroyRef = inject(DestroyRef);
  private readonly live = signal<LiveList<Command> | undefined>(undefined);
  protected readonly state = new ActionState();
  protected readonly commands = computed(() => [...(this.live()?.items() ?? [])].sort((a, b) => (b.spec?.fence ?? 0) - (a.spec?.fence ?? 0)));
  /** The newest running command, else the newest one (its outcome and log stay in view). */
  protected readonly running = computed(() => this.commands().find((c) => RUNNING_COMMAND_STATES.includes(c.status?.state ?? 'PENDING')) ?? this.commands()[0]);

  // The input is there from ngOnInit on (the page makes a new panel per site).
  ngOnInit(): void {
    this.live.set(this.lists.open<Command>('commands', { site: this.site() }, this.destroyRef));
  }

  /** "retry <name>" or "abandon <name>": the confirmation said which. */
  protected async act(what: string): Promise<void> {
    const [action, name] = what.split(' ');
    if ((action === 'retry' || action === 'abandon') && name) await this.state.run(() => this.api.action('commands', name, action));
  }
}
