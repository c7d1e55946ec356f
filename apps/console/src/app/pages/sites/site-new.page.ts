import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { ApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { LiveLists } from '../../core/live-list';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { causeAt } from '../../shared/field-errors';
import { manifest, type Node } from './site-types';

/** The form's inputs: name, label, the field path the API names in its causes, and how the input looks. */
interface Field {
  readonly name: string;
  readonly label: string;
  readonly path: string;
  readonly type?: string;
  readonly required?: boolean;
  readonly value?: string;
  readonly hint?: string;
}

const FIELDS: readonly Field[] = [
  { name: 'siteName', label: 'Name', path: 'metadata.name', required: true, hint: 'lower-case letters, digits and -' },
  { name: 'domains', label: 'Domains', path: 'spec.domains', required: true, hint: 'comma-separated, e.g. shop.example.test' },
  { name: 'wpVersion', label: 'WordPress version', path: 'spec.wordpress.version', required: true, value: '6.4' },
  { name: 'wpTitle', label: 'Site title', path: 'spec.wordpress.title', required: true },
  { name: 'adminUser', label: 'Admin user', path: 'spec.wordpress.adminUser', required: true, value: 'admin' },
  { name: 'adminEmail', label: 'Admin email', path: 'spec.wordpress.adminEmail', type: 'email', required: true },
  { name: 'memoryLimit', label: 'PHP memory limit', path: 'spec.php.memoryLimit', value: '256M' },
  { name: 'gitUrl', label: 'Git repository (optional)', path: 'spec.code.git.url', hint: 'https://git.example.test/shop.git' },
  { name: 'gitRef', label: 'Git ref', path: 'spec.code.git.ref', value: 'main' },
];

/**
 * A new Site from a form. The API validates (a dry run when a field is left and before the
 * write); each Status cause is shown next to its input. Created: on to its page, live.
 */
@Component({
  selector: 'pl-site-new',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, ErrorBoxComponent],
  template: `
    <h1>New site</h1>
    <form #form (submit)="$event.preventDefault(); submit(form)" (focusout)="touch($event); validate(form)" novalidate data-testid="site-form">
      @for (f of fields; track f.name) {
        @if ($index === 2) {
          <div class="field">
            <label for="f-environment">Environment</label>
            <select id="f-environment" name="environment" (change)="validate(form)">
              <option value="production">production</option>
              <option value="staging">staging</option>
            </select>
          </div>
          <div class="field">
            <label for="f-node">Node</label>
            <select id="f-node" name="node" [attr.aria-describedby]="cause('spec.nodeName', 'node') ? 'e-node' : null">
              <option value="">Any Ready node (the scheduler picks)</option>
              @for (n of nodes.items(); track n.metadata.name) { <option [value]="n.metadata.name">{{ n.metadata.name }}</option> }
            </select>
            @if (cause('spec.nodeName', 'node'); as m) { <span class="field-error" id="e-node" [attr.data-field]="'spec.nodeName'">{{ m }}</span> }
          </div>
        }
        <div class="field">
          <label [for]="'f-' + f.name">{{ f.label }}</label>
          <input [id]="'f-' + f.name" [name]="f.name" [type]="f.type ?? 'text'" [value]="f.value ?? ''" [required]="f.required ?? false" [attr.placeholder]="f.hint ?? null" [attr.aria-invalid]="cause(f.path, f.name) ? 'true' : null" [attr.aria-describedby]="cause(f.path, f.name) ? 'e-' + f.name : null" [attr.data-testid]="'field-' + f.name" />
          @if (cause(f.path, f.name); as m) { <span class="field-error" [id]="'e-' + f.name" [attr.data-field]="f.path">{{ m }}</span> }
        </div>
      }
      <pl-error-box [error]="submitted() ? error() : undefined" />
      <div class="buttons">
        <button type="submit" [disabled]="busy()" data-testid="create-site">Create site</button>
        <a routerLink="/sites">Cancel</a>
      </div>
    </form>
  `,
  styles: `.field { display: grid; grid-template-columns: 12rem 22rem 1fr; gap: .5rem; align-items: center; margin: .4rem 0; } .field-error { color: #912018; font-size: .85rem; } .buttons { display: flex; gap: 1rem; align-items: center; margin-top: 1rem; } button[type=submit] { background: #1849a9; color: #fff; border: none; padding: .45rem .9rem; border-radius: 4px; }`,
})
export class SiteNewPage {
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  protected readonly nodes = inject(LiveLists).open<Node>('nodes');
  protected readonly fields = FIELDS;
  protected readonly error = signal<ApiError | undefined>(undefined);
  protected readonly busy = signal(false);
  private lastChecked = '';

  /** The inputs left at least once: a dry run's causes show only there (and everywhere once submitted). */
  private readonly touched = signal<ReadonlySet<string>>(new Set());
  protected readonly submitted = signal(false);

  protected cause(path: string, input: string): string | undefined {
    return this.submitted() || this.touched().has(input) ? causeAt(this.error(), path) : undefined;
  }

  protected touch(event: FocusEvent): void {
    const name = (event.target as HTMLInputElement | null)?.name;
    if (name) this.touched.update((t) => new Set([...t, name]));
  }

  /** On leaving a field: a server-side dry run of the form as it is (once per distinct form). */
  protected async validate(form: HTMLFormElement): Promise<void> {
    const site = siteFrom(form);
    const key = JSON.stringify(site);
    if (key === this.lastChecked || !(site as { metadata: { name: string } }).metadata.name) return;
    this.lastChecked = key;
    await this.send(site, true);
  }

  protected async submit(form: HTMLFormElement): Promise<void> {
    const site = siteFrom(form);
    this.submitted.set(true);
    this.busy.set(true);
    try {
      if (!(await this.send(site, true))) return;
      const created = await this.send(site, false);
      if (created) await this.router.navigate(['/sites', created]);
    } finally {
      this.busy.set(false);
    }
  }

  /** The site's name once the API took it (dry run or not), undefined when it refused. */
  private async send(site: object, dryRun: boolean): Promise<string | undefined> {
    try {
      const answer = await this.api.create('sites', site, { dryRun });
      this.error.set(undefined);
      return answer.metadata.name;
    } catch (caught) {
      this.error.set(caught instanceof ApiError ? caught : new ApiError(0, 'Unknown', String(caught)));
      return undefined;
    }
  }
}

/** The Site the form describes; empty optional inputs are left out (the API's defaults apply). */
function siteFrom(form: HTMLFormElement): object {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const git = text('gitUrl') ? { code: { git: { url: text('gitUrl'), ref: text('gitRef') || 'main' } } } : {};
  return manifest('Site', text('siteName'), {
    environment: text('environment') || 'production',
    domains: text('domains').split(/[\s,]+/).filter(Boolean),
    ...(text('node') ? { nodeName: text('node') } : {}),
    wordpress: { version: text('wpVersion'), title: text('wpTitle'), adminUser: text('adminUser'), adminEmail: text('adminEmail') },
    ...(text('memoryLimit') ? { php: { memoryLimit: text('memoryLimit') } } : {}),
    ...git,
  });
}
