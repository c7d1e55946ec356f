import { inject } from '@angular/core';
import { Router, type CanActivateFn } from '@angular/router';
import { AuthService } from './auth.service';

/** Every page but the sign-in needs a token the API knows; without one, the sign-in page (then back). */
export const signedIn: CanActivateFn = async (_route, state) => {
  // inject() only before the first await (the injection context ends there).
  const auth = inject(AuthService);
  const router = inject(Router);
  if (auth.signedIn() || (await auth.restore())) return true;
  return router.createUrlTree(['/sign-in'], { queryParams: { next: state.url } });
};
