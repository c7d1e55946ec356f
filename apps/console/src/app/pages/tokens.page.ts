import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import type { ApiError } from '../core/api-error';
import { ApiService } from '../core/api.service';
import { AuthService } from '../core/auth.service';
import type { Role } from '../core/types';
import { asApiError } from '../shared/as-api-error';
import { Clock } from '../shared/clock';
import { newestFirst } from '../shared/newest-first';
import { ConfirmNameComponent } from '../shared/confirm-name.component';
import { CopyButtonComponent } from '../shared/copy-button.component';
import { ErrorBoxComponent } from '../shared/error-box.component';

interface TokenInfo {
  readonly id: string;
  readonly subject: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
}

/** API tokens (admins): who holds which role; a new token shown once with a copy button; revocation asks for the subject. */
@Component({
  selector: 'pl-tokens',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ErrorBoxComponent, CopyButtonComponent, ConfirmNameComponent],
  template: `
    <h1>API tokens</h1>
    @if (!auth.isAdmin()) {
      <p>Only admins manage API tokens.</p>
    } @else {
      <form class="row" (submit)="create($event)" aria-label="Create an API token">
        <label>Subject <input name="subject" data-testid="token-subject" [value]="subject()" (input)="subject.set($any($event.target).value)" required autocomplete="off" placeholder="ci-deploy" /></label>
        <label>Role
          <select name="role" data-testid="token-role" (change)="role.set($any($event.target).value)">
            @for (r of roles; track r) { <option [value]="r" [selected]="role() === r">{{ r }}</option> }
          </select>
        </label>
        <button type="submit" data-testid="token-create" [disabled]="busy() || subject().trim() === ''">Create token</button>
      </form>
      @if (error(); as e) {
        @if (e.fieldMessage('subject'); as m) { <p class="field-error" data-testid="token-subject-error">Subject: {{ m }}</p> }
        <pl-error-box [error]="e" />
      }
      @if (created(); as c) {
        <div class="once" data-testid="token-once" role="region" aria-label="New API token">
          <p><strong>Copy this token now: it is shown this once and cannot be read again.</strong> Anyone holding it acts as <code>{{ c.subject }}</code> ({{ c.role }}) until it is revoked; keep it out of chat, tickets and shell history.</p>
          <pre data-testid="token-value" tabindex="0">{{ c.token }}</pre>
          <pl-copy-button [text]="c.token" label="Copy token" />
          <button type="button" (click)="created.set(undefined)">Done</button>
        </div>
      }
      @if (revoking(); as t) {
        <pl-confirm-name [name]="t.subject" title="Revoke API token" [consequence]="'Requests with the token of ' + t.subject + ' (' + t.role + ') are refused from now on.'" action="Revoke" (confirmed)="revoke(t)" (cancelled)="revoking.set(undefined)" />
      }
      <table>
        <caption>{{ active().length }} active, {{ tokens().length - active().length }} revoked</caption>
        <thead><tr><th scope="col">Subject</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">By</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          @for (t of tokens(); track t.id) {
            <tr data-testid="token-row" [attr.data-subject]="t.subject" [class.revoked]="t.revokedAt">
              <td>{{ t.subject }}</td><td>{{ t.role }}</td><td>{{ clock.age(t.createdAt) }} ago</td><td>{{ t.createdBy }}</td>
              <td data-testid="token-state">@if (t.revokedAt) { Revoked {{ clock.age(t.revokedAt) }} ago } @else { Active }</td>
              <td>@if (!t.revokedAt) { <button type="button" data-testid="token-revoke" (click)="revoking.set(t)" [attr.aria-label]="'Revoke token of ' + t.subject">Revoke</button> }</td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
  styles: `.row { display: flex; gap: 1rem; align-items: flex-end; margin-bottom: .75rem; } label { display: flex; flex-direction: column; gap: .2rem; } .once { border: 2px solid #b54708; background: #fffaeb; padding: .75rem; border-radius: 6px; margin: .75rem 0; } pre { background: #101828; color: #f2f4f7; padding: .5rem; overflow: auto; } .field-error { color: #912018; } table { border-collapse: collapse; width: 100%; background: #fff; } caption { text-align: left; color: #475467; padding: .25rem 0; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e4e7ec; } tr.revoked { color: #475467; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class TokensPage {
  protected readonly auth = inject(AuthService);
  protected readonly clock = inject(Clock);
  private readonly api = inject(ApiService);
  protected readonly roles: readonly Role[] = ['viewer', 'operator', 'admin'];
  protected readonly subject = signal('');
  protected readonly role = signal<Role>('viewer');
  protected readonly busy = signal(false);
  protected readonly error = signal<ApiError | undefined>(undefined);
  protected readonly created = signal<(TokenInfo & { token: string }) | undefined>(undefined);
  protected readonly tokens = signal<readonly TokenInfo[]>([]);
  protected readonly active = computed(() => this.tokens().filter((t) => !t.revokedAt));
  protected readonly revoking = signal<TokenInfo | undefined>(undefined);

  constructor() {
    this.clock.follow();
    if (this.auth.isAdmin()) void this.load();
  }

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    this.busy.set(true);
    this.error.set(undefined);
    try {
      this.created.set(await this.api.request<TokenInfo & { token: string }>('POST', '/auth/v1/tokens', { subject: this.subject().trim(), role: this.role() }));
      this.subject.set('');
      await this.load();
    } catch (caught) {
      this.error.set(asApiError(caught));
    } finally {
      this.busy.set(false);
    }
  }

  protected async revoke(token: TokenInfo): Promise<void> {
    this.revoking.set(undefined);
    this.error.set(undefined);
    try {
      await this.api.request('DELETE', `/auth/v1/tokens/${encodeURIComponent(token.id)}`);
      await this.load();
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }

  /** Newest first; the API has no watch for tokens: read again after each change. */
  private async load(): Promise<void> {
    try {
      this.tokens.set(newestFirst((await this.api.request<{ items: TokenInfo[] }>('GET', '/auth/v1/tokens')).items));
    } catch (caught) {
      this.error.set(asApiError(caught));
    }
  }
}
