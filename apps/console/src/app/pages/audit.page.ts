import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
// The API's own type (type-only: nothing of libs/domain is bundled).
import type { AuditPage as AuditAnswer, AuditRecord } from '../../../../../libs/domain/src/audit-record';
import type { ApiError } from '../core/api-error';
import { ApiService, queryString } from '../core/api.service';
import { AuthService } from '../core/auth.service';
import { asApiError } from '../shared/as-api-error';
import { Clock } from '../shared/clock';
import { ErrorBoxComponent } from '../shared/error-box.component';

const PAGE = 100;

/** The audit log (admins): who did what when and with what outcome, filtered on the server, newest first, older pages on request. */
@Component({
  selector: 'pl-audit',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ErrorBoxComponent],
  template: `
    <h1>Audit log</h1>
    @if (!auth.isAdmin()) {
      <p>Only admins read the audit log.</p>
    } @else {
      <form class="filters" (submit)="search($event)" aria-label="Filter the audit log">
        <label>Subject <input name="subject" data-testid="audit-subject" [value]="subject()" (input)="subject.set($any($event.target).value)" autocomplete="off" /></label>
        <label>Verb
          <select name="verb" data-testid="audit-verb" (change)="verb.set($any($event.target).value)">
            @for (v of verbs; track v) { <option [value]="v" [selected]="verb() === v">{{ v || 'any' }}</option> }
          </select>
        </label>
        <label>Path prefix <input name="path" data-testid="audit-path" [value]="path()" (input)="path.set($any($event.target).value)" placeholder="/apis/pressluft.io/v1/nodes" autocomplete="off" /></label>
        <label>Result
          <select name="outcome" data-testid="audit-outcome" (change)="outcome.set($any($event.target).value)">
            <option value="" [selected]="outcome() === ''">any</option>
            <option value="ok" [selected]="outcome() === 'ok'">ok</option>
            <option value="refused" [selected]="outcome() === 'refused'">refused</option>
          </select>
        </label>
        <label>From <input name="since" type="datetime-local" data-testid="audit-since" [value]="since()" (input)="since.set($any($event.target).value)" /></label>
        <label>To <input name="until" type="datetime-local" data-testid="audit-until" [value]="until()" (input)="until.set($any($event.target).value)" /></label>
        <button type="submit" data-testid="audit-search">Search</button>
      </form>
      @if (error(); as e) {
        @for (cause of e.causes; track $index) { <p class="field-error">{{ label(cause.field) }}: {{ cause.message }}</p> }
        <pl-error-box [error]="e" />
      }
      <table>
        <caption>{{ loaded() ? rows().length + ' entries, newest first' + (next() ? ' (older ones below)' : '') : 'Loading…' }}</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Subject</th><th scope="col">Verb</th><th scope="col">Path</th><th scope="col">Result</th><th scope="col">Request id</th></tr></thead>
        <tbody>
          @for (r of rows(); track r.id) {
            <tr data-testid="audit-row" [attr.data-subject]="r.subject" [attr.data-verb]="r.verb" [class.refused]="refused(r)">
              <td><time [attr.datetime]="r.at" [attr.title]="clock.age(r.at) + ' ago'">{{ r.at }}</time></td>
              <td>{{ r.subject }}</td>
              <td>{{ r.verb }}</td>
              <td><code>{{ r.path }}</code></td>
              <td data-testid="audit-result">@if (refused(r)) { <span aria-hidden="true">✗ </span> }{{ result(r) }}</td>
              <td><code>{{ r.requestId }}</code></td>
            </tr>
          } @empty {
            @if (loaded()) { <tr><td colspan="6">No entries match.</td></tr> }
          }
        </tbody>
      </table>
      @if (next()) { <button type="button" data-testid="audit-older" [disabled]="busy()" (click)="older()">Load older</button> }
    }
  `,
  styles: `.filters { display: flex; gap: 1rem; align-items: flex-end; margin-bottom: .75rem; flex-wrap: wrap; } label { display: flex; flex-direction: column; gap: .2rem; } .field-error { color: #912018; } table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; } caption { text-align: left; color: #475467; padding: .25rem 0; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7ec; } tr.refused td[data-testid='audit-result'] { color: #912018; font-weight: 600; } button[data-testid='audit-older'] { margin-top: .75rem; }`,
})
export class AuditPage {
  protected readonly auth = inject(AuthService);
  protected readonly clock = inject(Clock);
  private readonly api = inject(ApiService);
  protected readonly verbs = ['', 'POST', 'PUT', 'PATCH', 'DELETE'];
  protected readonly subject = signal('');
  protected readonly verb = signal('');
  protected readonly path = signal('');
  protected readonly outcome = signal('');
  protected readonly since = signal('');
  protected readonly until = signal('');
  protected readonly rows = signal<readonly AuditRecord[]>([]);
  protected readonly next = signal<string | undefined>(undefined);
  protected readonly loaded = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<ApiError | undefined>(undefined);
  /** The filters of the rows shown (a "load older" continues with these, not with edits since). */
  private shownQuery: Record<string, string> = {};

  constructor() {
    this.clock.follow();
    if (this.auth.isAdmin()) void this.fetch({}, false);
  }

  protected refused(row: AuditRecord): boolean {
    return row.code >= 400 || row.code === 0;
  }

  /** "ok 201", "refused 403 · Forbidden", "refused 0 · 250 requests" (a minute's counted unauthenticated ones). */
  protected result(row: AuditRecord): string {
    return [`${this.refused(row) ? 'refused' : 'ok'} ${row.code}`, row.reason, row.count > 1 ? `${row.count} requests` : undefined].filter(Boolean).join(' · ');
  }

  protected label(field: string | undefined): string {
    return { subject: 'Subject', verb: 'Verb', path: 'Path prefix', outcome: 'Result', since: 'From', until: 'To' }[field ?? ''] ?? field ?? '';
  }

  protected search(event: Event): void {
    event.preventDefault();
    // datetime-local is the browser's local time; the API wants RFC 3339.
    const time = (local: string) => (local ? new Date(local).toISOString() : '');
    void this.fetch({ subject: this.subject().trim(), verb: this.verb(), path: this.path().trim(), outcome: this.outcome(), since: time(this.since()), until: time(this.until()) }, false);
  }

  protected older(): void {
    void this.fetch({ ...this.shownQuery, before: this.next() ?? '' }, true);
  }

  private async fetch(query: Record<string, string>, append: boolean): Promise<void> {
    this.busy.set(true);
    this.error.set(undefined);
    try {
      const page = await this.api.request<AuditAnswer>('GET', `/auth/v1/audit${queryString({ ...query, limit: String(PAGE) })}`);
      const { before: _, ...filters } = query;
      this.shownQuery = filters;
      this.rows.set(append ? [...this.rows(), ...page.items] : page.items);
      this.next.set(page.next);
      this.loaded.set(true);
    } catch (caught) {
      this.error.set(asApiError(caught));
    } finally {
      this.busy.set(false);
    }
  }
}
