import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { ApiService, V1 } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { CommandProgressComponent } from '../../shared/command-progress.component';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { ActionState } from './action-state';
import type { Command, Site } from './site-types';

/** The releases on the node, newest first, the current one marked; roll back to an older one (confirmed by the site's name). */
@Component({
  selector: 'pl-site-releases',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [CommandProgressComponent, ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <h2>Releases</h2>
    <ul data-testid="releases">
      @for (r of site().status?.releases ?? []; track r) {
        <li [attr.data-release]="r">
          <code>{{ r }}</code>
          @if (r === site().status?.currentRelease) { <strong> (current)</strong> }
          @else if (auth.canMutate() && r < (site().status?.currentRelease ?? '')) {
            <button type="button" (click)="state.confirming.set(r)" [disabled]="state.busy()" data-testid="rollback">Roll back to {{ r }}</button>
          }
        </li>
      } @empty { <li>No releases reported by the node yet.</li> }
    </ul>
    @if (state.confirming(); as release) {
      <pl-confirm-name [name]="site().metadata.name" title="Roll back" [consequence]="'The site serves release ' + release + ' again (its code; the database and uploads stay as they are).'" action="Roll back" (confirmed)="rollback(release)" (cancelled)="state.confirming.set(undefined)" />
    }
    <pl-error-box [error]="state.error()" />
    @if (started(); as name) { <pl-command-progress [name]="name" /> }
  `,
})
export class SiteReleasesComponent {
  readonly site = input.required<Site>();
  protected readonly auth = inject(AuthService);
  private readonly api = inject(ApiService);
  protected readonly state = new ActionState();
  protected readonly started = signal<string | undefined>(undefined);

  protected async rollback(release: string): Promise<void> {
    const name = this.site().metadata.name;
    const command = await this.state.run(() => this.api.request<Command>('POST', `${V1}/sites/${encodeURIComponent(name)}/rollback`, { release }));
    if (command) this.started.set(command.metadata.name);
  }
}
