import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';
import { AuthService } from '../core/auth.service';

/** Sign-in with an API token (`.pressluft/admin.token` on the local system, or one an admin created). */
@Component({
  selector: 'pl-sign-in',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <main class="sign-in">
      <h1>Sign in to Pressluft</h1>
      <form (submit)="submit($event)">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" data-testid="token-input" [value]="token()" (input)="token.set($any($event.target).value)" required />
        <p class="hint">Kept for this tab only. On the local system: <code>.pressluft/admin.token</code>.</p>
        @if (error()) { <p class="error" role="alert" data-testid="sign-in-error">{{ error() }}</p> }
        <button type="submit" data-testid="sign-in-button" [disabled]="busy() || token().trim() === ''">Sign in</button>
      </form>
    </main>
  `,
  styles: `.sign-in { max-width: 26rem; margin: 4rem auto; padding: 1.5rem; background: #fff; border: 1px solid #d0d5dd; border-radius: 8px; } form { display: flex; flex-direction: column; gap: .5rem; } .hint { font-size: .8rem; color: #475467; } .error { color: #912018; }`,
})
export class SignInPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly token = signal('');
  protected readonly error = signal('');
  protected readonly busy = signal(false);

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.busy.set(true);
    this.error.set('');
    try {
      await this.auth.signIn(this.token());
      const next = this.route.snapshot.queryParamMap.get('next');
      await this.router.navigateByUrl(next?.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (error) {
      this.error.set(error instanceof Error ? error.message : String(error));
    } finally {
      this.busy.set(false);
    }
  }
}
