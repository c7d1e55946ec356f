import { computed, Injectable, signal } from '@angular/core';
import type { Principal } from './types';

const KEY = 'pressluft.token';

/**
 * The API token of this tab (sessionStorage: gone with the tab, never in localStorage or a URL) and
 * who it is (GET /auth/v1/whoami). The console hides what the role may not do; the API still decides.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly tokenValue = signal<string | undefined>(sessionStorage.getItem(KEY) ?? undefined);
  readonly principal = signal<Principal | undefined>(undefined);
  readonly signedIn = computed(() => this.principal() !== undefined);
  /** operator or admin: may change sites, backups, restores, environments. */
  readonly canMutate = computed(() => this.principal()?.role === 'operator' || this.principal()?.role === 'admin');
  readonly isAdmin = computed(() => this.principal()?.role === 'admin');

  token(): string | undefined {
    return this.tokenValue();
  }

  /** Checks the token with the API; keeps it for this tab only if the API knows it. */
  async signIn(token: string): Promise<Principal> {
    const principal = await whoami(token.trim());
    sessionStorage.setItem(KEY, token.trim());
    this.tokenValue.set(token.trim());
    this.principal.set(principal);
    return principal;
  }

  /** On start: the tab's token, if it still works. */
  async restore(): Promise<boolean> {
    const token = this.tokenValue();
    if (!token) return false;
    try {
      this.principal.set(await whoami(token));
      return true;
    } catch {
      this.signOut();
      return false;
    }
  }

  signOut(): void {
    sessionStorage.removeItem(KEY);
    this.tokenValue.set(undefined);
    this.principal.set(undefined);
  }
}

async function whoami(token: string): Promise<Principal> {
  const response = await fetch('/auth/v1/whoami', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  if (!response.ok) throw new Error(response.status === 401 ? 'The API does not know this token.' : `The API answered HTTP ${response.status}.`);
  return (await response.json()) as Principal;
}
