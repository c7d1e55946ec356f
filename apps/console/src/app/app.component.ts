import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { AuthService } from './core/auth.service';

/** The shell: navigation (what the role may see), who is signed in, the page. */
@Component({
  selector: 'pl-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    @if (auth.principal(); as me) {
      <header class="top">
        <a class="brand" routerLink="/">Pressluft</a>
        <nav aria-label="Main">
          <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">Fleet</a>
          <a routerLink="/sites" routerLinkActive="active">Sites</a>
          <a routerLink="/nodes" routerLinkActive="active">Nodes</a>
          <a routerLink="/commands" routerLinkActive="active">Commands</a>
          <a routerLink="/events" routerLinkActive="active">Events</a>
          @if (auth.isAdmin()) {
            <a routerLink="/tokens" routerLinkActive="active">Tokens</a>
            <a routerLink="/audit" routerLinkActive="active">Audit log</a>
          }
        </nav>
        <span class="me" data-testid="principal">{{ me.subject }} ({{ me.role }})</span>
        <button type="button" (click)="signOut()">Sign out</button>
      </header>
    }
    <main id="content"><router-outlet /></main>
  `,
  styles: `
    .top { display: flex; align-items: center; gap: 1rem; padding: .5rem 1rem; background: #101828; color: #f2f4f7; }
    .top a { color: #f2f4f7; text-decoration: none; }
    .top nav { display: flex; gap: .75rem; flex: 1; }
    .top nav a.active { text-decoration: underline; }
    .brand { font-weight: 700; }
    .me { font-size: .85rem; }
    main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
  `,
})
export class AppComponent {
  protected readonly auth = inject(AuthService);
  private readonly router = inject(Router);

  protected async signOut(): Promise<void> {
    this.auth.signOut();
    await this.router.navigateByUrl('/sign-in');
  }
}
