import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import type { ApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { asApiError } from '../../shared/as-api-error';
import { Clock } from '../../shared/clock';
import { newestFirst } from '../../shared/newest-first';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { CopyButtonComponent } from '../../shared/copy-button.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { installCommand } from './install-command';

interface JoinToken {
  readonly id: string;
  readonly node: string;
  readonly state: 'Pending' | 'Used' | 'Expired' | 'Revoked';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
}

/**
 * "Add a node" (admins): a one-time join token for a node name, shown once with the install
 * command that enrolls the node; the join tokens with their state, a pending one revocable.
 */
@Component({
  selector: 'pl-join-tokens',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ErrorBoxComponent, CopyButtonComponent, ConfirmNameComponent],
  template: `
    <section aria-labelledby="add-node">
      <h2 id="add-node">Add a node</h2>
      <form class="row" (submit)="create($event)">
        <label>Node name <input name="node" data-testid="join-node" [value]="node()" (input)="node.set($any($event.target).value)" required autocomplete="off" /></label>
        <label>Valid for (minutes) <input name="ttl" type="number" min="1" max="1440" data-testid="join-ttl" [value]="minutes()" (input)="minutes.set(+$any($event.target).value)" /></label>
        <button type="submit" data-testid="join-create" [disabled]="busy() || node().trim() === ''">Create join token</button>
      </form>
      @if (error(); as e) {
        @if (e.fieldMessage('node'); as m) { <p class="field-error" data-testid="join-node-error">Node name: {{ m }}</p> }
        <pl-error-box [error]="e" />
      }
      @if (created(); as c) {
        <div class="once" data-testid="join-once" role="region" aria-label="New join token">
          <p><strong>Shown once.</strong> Run this on the new node <code>{{ c.node }}</code> as root; the token is not shown again and works once, until {{ c.expiresAt }}.</p>
          <pre data-testid="install-command" tabindex="0">{{ c.command }}</pre>
          <pl-copy-button [text]="c.command" label="Copy install command" />
          <button type="button" (click)="created.set(undefined)">Done</button>
        </div>
      }
      <h3>Join tokens</h3>
      @if (revoking(); as t) {
        <pl-confirm-name [name]="t.node" title="Revoke join token" [consequence]="'Node ' + t.node + ' can no longer enroll with this token.'" action="Revoke" (confirmed)="revoke(t)" (cancelled)="revoking.set(undefined)" />
      }
      <table>
        <thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">By</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          @for (t of tokens(); track t.id) {
            <tr data-testid="join-token-row" [attr.data-node]="t.node">
              <td>{{ t.node }}</td><td data-testid="join-token-state">{{ t.state }}</td><td>{{ clock.age(t.createdAt) }} ago</td><td>{{ t.createdBy }}</td><td>{{ t.expiresAt }}</td>
              <td>@if (t.state === 'Pending') { <button type="button" (click)="revoking.set(t)" [attr.aria-label]="'Revoke join token of ' + t.node">Revoke</button> }</td>
            </tr>
          } @empty { <tr><td colspan="6">No join tokens.</td></tr> }
        </tbody>
      </table>
    </section>
  `,
  styles: `.row { display: flex; gap: 1rem; align-items: flex-end; flex-wrap: wrap; } label { display: flex; flex-direction: column; gap: .2rem; } .once { border: 2px solid #b54708; background: #fffaeb; padding: .75rem; border-radius: 6px; margin: .75rem 0; } pre { background: #101828; color: #f2f4f7; padding: .5rem; overflow: auto; } .field-error { color: #912018; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7ec; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class JoinTokensComponent {
  private readonly api = inject(ApiService);
  protected readonly clock = inject(Clock);
  protected readonly node = signal('');
  protected readonly minutes = signal(60);
  protected readonly busy = signal(false);
  protected readonly error = signal<ApiError | undefined>(undefined);
  protected readonly created = signal<{ node: string; expiresAt: string; command: string } | undefined>(undefined);
  protected readonly tokens = signal<readonly JoinToken[]>([]);
  protected readonly revoking = signal<JoinToken | undefined>(undefined);

  constructor() {
    this.clock.follow();
    void this.load();
  }

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    this.busy.set(true);
    this.error.set(undefined);
    try {
      const answer = await this.api.request<JoinToken & { token: string }>('POST', '/auth/v1/jointokens', { node: this.node().trim(), ttlSeconds: Math.round(this.minutes() * 60) });
      this.created.set({ node: answer.node, expiresAt: answer.expiresAt, command: installCommand(answer.node, answer.token, location.hostname, answer.expiresAt) });
      this.node.set('');
      await this.load();
    } catch (caught) {
      this.error.set(asApiError(caught));
    } finally {
      this.busy.set(false);
    }
  }

  protected async revoke(token: JoinToken): Promise<void> {
    this.revoking.set(undefined);
    try {
      await this.api.request('DELETE', `/auth/v1/jointokens/${encodeURIComponent(token.id)}`);
      await this.load();
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }

  /** The join tokens, newest first (the API has no watch for them: read again after each change). */
  private async load(): Promise<void> {
    try {
      const list = await this.api.request<{ items: JoinToken[] }>('GET', '/auth/v1/jointokens');
      this.tokens.set(newestFirst(list.items));
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }
}
