import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { ApiService } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { LiveLists } from '../../core/live-list';
import { AgePipe } from '../../shared/age.pipe';
import { ConfirmNameComponent } from '../../shared/confirm-name.component';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { followClock } from '../../shared/clock';
import { ActionState } from './action-state';
import { generatedName, manifest, type Backup, type Site } from './site-types';

/** The site's backups, live and newest first: back up now; restore one (destructive: confirmed by the site's name; a backup is taken first). */
@Component({
  selector: 'pl-site-backups',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AgePipe, ConfirmNameComponent, ErrorBoxComponent],
  template: `
    <h2>Backups</h2>
    @if (auth.canMutate()) { <button type="button" (click)="backUp()" [disabled]="state.busy()" data-testid="back-up-now">Back up now</button> }
    <pl-error-box [error]="state.error()" />
    @if (state.confirming(); as backup) {
      <pl-confirm-name [name]="site().metadata.name" title="Restore" [consequence]="'A backup of the site as it is now is taken first; then its code, database and uploads are replaced with those of backup ' + backup + '.'" action="Restore" (confirmed)="restore(backup)" (cancelled)="state.confirming.set(undefined)" />
    }
    <table>
      <thead><tr><th scope="col">Backup</th><th scope="col">Phase</th><th scope="col">Reason</th><th scope="col">Age</th><th scope="col">Size</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        @for (b of backups(); track b.metadata.name) {
          <tr data-testid="backup-row" [attr.data-backup]="b.metadata.name">
            <td><code>{{ b.metadata.name }}</code></td>
            <td data-testid="backup-phase">{{ b.status?.phase ?? 'PENDING' }}</td>
            <td>{{ b.spec?.reason ?? 'manual' }}</td>
            <td>{{ b.metadata.creationTimestamp | age: clock.now() }}</td>
            <td>{{ b.status?.bytesTotal !== undefined ? b.status?.bytesTotal + ' B' : '–' }}</td>
            <td>@if (auth.canMutate() && b.status?.phase === 'SUCCEEDED') { <button type="button" (click)="state.confirming.set(b.metadata.name)" data-testid="restore">Restore {{ b.metadata.name }}</button> }</td>
          </tr>
        } @empty { <tr><td colspan="6">No backups of this site.</td></tr> }
      </tbody>
    </table>
  `,
  styles: `table { border-collapse: collapse; background: #fff; margin-top: .5rem; } th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eaecf0; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class SiteBackupsComponent {
  readonly site = input.required<Site>();
  protected readonly auth = inject(AuthService);
  protected readonly clock = followClock();
  private readonly api = inject(ApiService);
  private readonly live = inject(LiveLists).open<Backup>('backups');
  protected readonly state = new ActionState();
  protected readonly backups = computed(() =>
    this.live
      .items()
      .filter((b) => b.spec?.site === this.site().metadata.name)
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')),
  );

  protected async backUp(): Promise<void> {
    const site = this.site().metadata.name;
    await this.state.run(() => this.api.create('backups', manifest('Backup', generatedName(site), { site })));
  }

  protected async restore(backup: string): Promise<void> {
    const site = this.site().metadata.name;
    await this.state.run(() => this.api.create('restores', manifest('Restore', generatedName(`${site}-restore`), { backup, site })));
  }
}
