import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { ApiService } from '../../core/api.service';
import { LiveLists } from '../../core/live-list';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { causeAt } from '../../shared/field-errors';
import { ActionState } from './action-state';
import { generatedName, manifest, type Site } from './site-types';

/**
 * Environments (libs/domain environments.ts): clone this site to a new staging site; on a staging
 * site, content down from a production site (ContentSync) and code up to one (Promotion). The API
 * enforces the rules; its Status is shown as it said it.
 */
@Component({
  selector: 'pl-site-environments',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <h2>Environments</h2>
    <p>This site is <strong>{{ environment() }}</strong>.</p>
    <form class="panel" (submit)="$event.preventDefault(); clone(cloneName.value, cloneDomain.value)" aria-labelledby="clone-h">
      <h3 id="clone-h">Clone to staging</h3>
      <label>New site's name <input #cloneName name="cloneName" required [value]="site().metadata.name + '-staging'" data-testid="clone-name" /></label>
      @if (cause('metadata.name'); as m) { <span class="field-error">{{ m }}</span> }
      <label>Its domain <input #cloneDomain name="cloneDomain" required placeholder="staging.example.test" data-testid="clone-domain" /></label>
      @if (cause('spec.domains'); as m) { <span class="field-error">{{ m }}</span> }
      <button type="submit" [disabled]="state.busy()" data-testid="clone">Clone to staging</button>
    </form>
    @if (environment() === 'staging') {
      <form class="panel" (submit)="$event.preventDefault(); confirm('sync', syncFrom.value)" aria-labelledby="sync-h">
        <h3 id="sync-h">Sync content from production</h3>
        <label>From <select #syncFrom name="syncFrom" data-testid="sync-from">@for (p of production(); track p) { <option [value]="p">{{ p }}</option> }</select></label>
        <label><input type="checkbox" [checked]="parts().includes('database')" (change)="toggle('database')" /> database</label>
        <label><input type="checkbox" [checked]="parts().includes('uploads')" (change)="toggle('uploads')" /> uploads</label>
        <button type="submit" [disabled]="state.busy() || production().length === 0">Sync content</button>
      </form>
      <form class="panel" (submit)="$event.preventDefault(); confirm('promote', promoteTo.value)" aria-labelledby="promote-h">
        <h3 id="promote-h">Promote to production</h3>
        <label>To <select #promoteTo name="promoteTo" data-testid="promote-to">@for (p of production(); track p) { <option [value]="p">{{ p }}</option> }</select></label>
        <label><input type="checkbox" [checked]="acknowledgeDrift()" (change)="acknowledgeDrift.set(!acknowledgeDrift())" /> even if the target is Drifted</label>
        <button type="submit" [disabled]="state.busy() || production().length === 0">Promote</button>
      </form>
    }
    @if (pending(); as p) {
      @if (p.kind === 'sync') {
        <pl-confirm-name [name]="site().metadata.name" title="Sync content" [consequence]="'This staging site is backed up, then its ' + parts().join(' and ') + ' are replaced with those of ' + p.target + '.'" action="Sync content" (confirmed)="sync(p.target)" (cancelled)="pending.set(undefined)" />
      } @else {
        <pl-confirm-name [name]="p.target" title="Promote" [consequence]="'Site ' + p.target + ' is backed up, then deploys the exact commit this staging site runs.'" action="Promote" (confirmed)="promote(p.target)" (cancelled)="pending.set(undefined)" />
      }
    }
    <pl-error-box [error]="state.error()" />
    @if (created(); as c) { <p role="status" data-testid="environment-created">Created {{ c }}.</p> }
  `,
  styles: `.panel { border: 1px solid #d0d5dd; border-radius: 6px; padding: .5rem .75rem; margin: .5rem 0; background: #fff; display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; } .panel h3 { width: 100%; margin: 0; font-size: 1rem; } label { display: flex; flex-direction: column; font-size: .85rem; } .field-error { color: #912018; font-size: .85rem; }`,
})
export class SiteEnvironmentsComponent {
  readonly site = input.required<Site>();
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  private readonly sites = inject(LiveLists).open<Site>('sites');
  protected readonly state = new ActionState();
  protected readonly parts = signal<readonly string[]>(['database', 'uploads']);
  protected readonly acknowledgeDrift = signal(false);
  protected readonly pending = signal<{ kind: 'sync' | 'promote'; target: string } | undefined>(undefined);
  protected readonly created = signal<string | undefined>(undefined);
  protected readonly environment = computed(() => this.site().spec?.environment ?? 'production');
  protected readonly production = computed(() => this.sites.items().filter((s) => (s.spec?.environment ?? 'production') === 'production').map((s) => s.metadata.name));

  protected cause(field: string): string | undefined {
    return causeAt(this.state.error(), field);
  }

  protected toggle(part: string): void {
    this.parts.update((parts) => (parts.includes(part) ? parts.filter((p) => p !== part) : [...parts, part]));
  }

  protected confirm(kind: 'sync' | 'promote', target: string): void {
    if (target) this.pending.set({ kind, target });
  }

  protected async clone(name: string, domain: string): Promise<void> {
    const { spec, metadata } = this.site();
    const clone = { environment: 'staging', domains: [domain.trim()], ...(spec?.nodeName ? { nodeName: spec.nodeName } : {}), wordpress: spec?.wordpress, ...(spec?.code ? { code: spec.code } : {}), source: { clone: { site: metadata.name } } };
    const answer = await this.state.run(() => this.api.create('sites', manifest('Site', name.trim(), clone)));
    if (answer) await this.router.navigate(['/sites', answer.metadata.name]);
  }

  protected async sync(from: string): Promise<void> {
    this.pending.set(undefined);
    const to = this.site().metadata.name;
    const answer = await this.state.run(() => this.api.create('contentsyncs', manifest('ContentSync', generatedName(`${to}-sync`), { from, to, parts: this.parts() })));
    if (answer) this.created.set(`ContentSync ${answer.metadata.name}`);
  }

  protected async promote(to: string): Promise<void> {
    this.pending.set(undefined);
    const from = this.site().metadata.name;
    const answer = await this.state.run(() => this.api.create('promotions', manifest('Promotion', generatedName(`${from}-promote`), { from, to, acknowledgeDrift: this.acknowledgeDrift() })));
    if (answer) this.created.set(`Promotion ${answer.metadata.name}`);
  }
}
