import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { ApiService } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { condition } from '../../core/types';
import { AgePipe } from '../../shared/age.pipe';
import { CommandProgressComponent } from '../../shared/command-progress.component';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { followClock } from '../../shared/clock';
import { ActionState } from './action-state';
import type { Command, Site } from './site-types';

/** Drift at a glance and the site's actions: check drift, rotate its database credentials, delete it (the last two confirmed by name). */
@Component({
  selector: 'pl-site-operations',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AgePipe, CommandProgressComponent, ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <h2>Drift</h2>
    @if (drifted(); as d) {
      <p data-testid="drift-summary" [class.bad]="d.status === 'True'"><strong>{{ d.status === 'True' ? 'Drifted' : 'No drift' }}</strong> ({{ d.reason }}) {{ d.message }} · {{ d.lastTransitionTime | age: clock.now() }} ago</p>
    } @else { <p data-testid="drift-summary">Not checked yet.</p> }
    @if (site().status?.credentialsRotatedAt; as at) { <p>Database credentials rotated {{ at | age: clock.now() }} ago.</p> }
    @if (auth.canMutate()) {
      <div class="actions">
        <button type="button" (click)="act('check-drift')" [disabled]="state.busy()" data-testid="check-drift">Check drift</button>
        <button type="button" (click)="state.confirming.set('rotate')" [disabled]="state.busy()">Rotate credentials</button>
        <button type="button" class="danger" (click)="state.confirming.set('delete')" [disabled]="state.busy()" data-testid="delete-site">Delete site</button>
      </div>
      @switch (state.confirming()) {
        @case ('rotate') { <pl-confirm-name [name]="site().metadata.name" title="Rotate credentials" consequence="The node sets a new database password for the site and rewrites its wp-config.php." action="Rotate" (confirmed)="act('rotate-credentials')" (cancelled)="state.confirming.set(undefined)" /> }
        @case ('delete') { <pl-confirm-name [name]="site().metadata.name" title="Delete site" consequence="The site is backed up (unless its spec skips that), then removed from its node: files, database, certificate." action="Delete" (confirmed)="remove()" (cancelled)="state.confirming.set(undefined)" /> }
      }
    }
    <pl-error-box [error]="state.error()" />
    @if (started(); as name) { <pl-command-progress [name]="name" /> }
  `,
  styles: `.actions { display: flex; gap: .5rem; flex-wrap: wrap; } .danger { background: #b42318; color: #fff; border: none; padding: .35rem .8rem; border-radius: 4px; } .bad { color: #912018; }`,
})
export class SiteOperationsComponent {
  readonly site = input.required<Site>();
  protected readonly auth = inject(AuthService);
  protected readonly clock = followClock();
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  protected readonly state = new ActionState();
  protected readonly started = signal<string | undefined>(undefined);
  protected readonly drifted = computed(() => condition(this.site(), 'Drifted'));

  protected async act(action: 'check-drift' | 'rotate-credentials'): Promise<void> {
    const command = await this.state.run(() => this.api.action<Command>('sites', this.site().metadata.name, action));
    if (command) this.started.set(command.metadata.name);
  }

  protected async remove(): Promise<void> {
    const gone = await this.state.run(() => this.api.remove('sites', this.site().metadata.name));
    if (gone) await this.router.navigate(['/sites']);
  }
}
