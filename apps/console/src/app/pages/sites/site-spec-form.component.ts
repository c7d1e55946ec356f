import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { ApiService } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { causeAt } from '../../shared/field-errors';
import { ActionState } from './action-state';
import type { Site } from './site-types';

interface Field {
  readonly name: string;
  readonly label: string;
  readonly path: string;
  readonly value: (site: Site) => string;
}

const FIELDS: readonly Field[] = [
  { name: 'domains', label: 'Domains (comma-separated)', path: 'spec.domains', value: (s) => (s.spec?.domains ?? []).join(', ') },
  { name: 'wpVersion', label: 'WordPress version', path: 'spec.wordpress.version', value: (s) => s.spec?.wordpress?.version ?? '' },
  { name: 'wpTitle', label: 'Site title', path: 'spec.wordpress.title', value: (s) => s.spec?.wordpress?.title ?? '' },
  { name: 'adminEmail', label: 'Admin email', path: 'spec.wordpress.adminEmail', value: (s) => s.spec?.wordpress?.adminEmail ?? '' },
  { name: 'memoryLimit', label: 'PHP memory limit', path: 'spec.php.memoryLimit', value: (s) => s.spec?.php?.memoryLimit ?? '' },
  { name: 'maxChildren', label: 'PHP workers', path: 'spec.php.maxChildren', value: (s) => String(s.spec?.php?.maxChildren ?? '') },
];

/**
 * The spec's common fields as a form: saved as a merge patch carrying the resourceVersion last
 * seen on the watch (a change the console has not shown yet is a 409, not overwritten). Causes
 * show next to their inputs.
 */
@Component({
  selector: 'pl-site-spec-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ErrorBoxComponent],
  template: `
    <h2>Spec</h2>
    <form #form (submit)="$event.preventDefault(); save(form)" data-testid="spec-form">
      <fieldset [disabled]="!auth.canMutate()">
        <legend class="sr-only">The site's spec</legend>
        @for (f of fields; track f.name) {
          <div class="field">
            <label [for]="'s-' + f.name">{{ f.label }}</label>
            <input [id]="'s-' + f.name" [name]="f.name" [value]="f.value(base())" [attr.aria-invalid]="cause(f.path) ? 'true' : null" [attr.aria-describedby]="cause(f.path) ? 'se-' + f.name : null" />
            @if (cause(f.path); as m) { <span class="field-error" [id]="'se-' + f.name" [attr.data-field]="f.path">{{ m }}</span> }
          </div>
        }
        <div class="field">
          <label for="s-drift">Drift policy</label>
          <select id="s-drift" name="drift"><option value="Observe" [selected]="drift() === 'Observe'">Observe</option><option value="Remediate" [selected]="drift() === 'Remediate'">Remediate</option></select>
        </div>
      </fieldset>
      <pl-error-box [error]="state.error()" />
      @if (auth.canMutate()) {
        <button type="submit" [disabled]="state.busy()" data-testid="save-spec">Save</button>
        @if (saved()) { <span role="status"> Saved (generation {{ saved() }}).</span> }
      }
    </form>
  `,
  styles: `.field { display: grid; grid-template-columns: 14rem 22rem 1fr; gap: .5rem; align-items: center; margin: .35rem 0; } fieldset { border: none; padding: 0; } .field-error { color: #912018; font-size: .85rem; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class SiteSpecFormComponent {
  readonly site = input.required<Site>();
  protected readonly auth = inject(AuthService);
  private readonly api = inject(ApiService);
  protected readonly fields = FIELDS;
  protected readonly state = new ActionState();
  protected readonly saved = signal<number | undefined>(undefined);
  /** The site as the form was filled from: the form does not change under the user's hands while the site changes live. */
  protected readonly base = computed(() => this.site(), { equal: (a, b) => a.metadata.uid === b.metadata.uid });
  protected readonly drift = computed(() => this.base().spec?.drift?.policy ?? 'Observe');

  protected cause(path: string): string | undefined {
    return causeAt(this.state.error(), path);
  }

  protected async save(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const workers = Number(text('maxChildren'));
    const patch = {
      metadata: { resourceVersion: this.site().metadata.resourceVersion },
      spec: {
        domains: text('domains').split(/[\s,]+/).filter(Boolean),
        wordpress: { version: text('wpVersion'), title: text('wpTitle'), adminEmail: text('adminEmail') },
        php: { memoryLimit: text('memoryLimit'), maxChildren: Number.isInteger(workers) && text('maxChildren') !== '' ? workers : text('maxChildren') },
        drift: { policy: text('drift') },
      },
    };
    const answer = await this.state.run(() => this.api.patch<Site>('sites', this.site().metadata.name, patch));
    this.saved.set(answer?.metadata.generation);
  }
}
