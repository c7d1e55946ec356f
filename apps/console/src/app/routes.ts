import type { Routes } from '@angular/router';
import { signedIn } from './core/signed-in.guard';
import { SignInPage } from './pages/sign-in.page';

/** Every page but the sign-in is lazy (its own chunk) and needs a token. */
export const routes: Routes = [
  { path: 'sign-in', component: SignInPage, title: 'Sign in · Pressluft' },
  {
    path: '',
    canActivate: [signedIn],
    children: [
      { path: '', pathMatch: 'full', loadComponent: () => import('./pages/overview.page').then((m) => m.OverviewPage), title: 'Fleet · Pressluft' },
      { path: 'sites', loadComponent: () => import('./pages/sites.page').then((m) => m.SitesPage), title: 'Sites · Pressluft' },
      { path: 'sites/new', loadComponent: () => import('./pages/sites/site-new.page').then((m) => m.SiteNewPage), title: 'New site · Pressluft' },
      { path: 'sites/:name', loadComponent: () => import('./pages/site-detail.page').then((m) => m.SiteDetailPage), title: 'Site · Pressluft' },
      { path: 'nodes', loadComponent: () => import('./pages/nodes.page').then((m) => m.NodesPage), title: 'Nodes · Pressluft' },
      { path: 'commands', loadComponent: () => import('./pages/commands.page').then((m) => m.CommandsPage), title: 'Commands · Pressluft' },
      { path: 'commands/:name', loadComponent: () => import('./pages/command-detail.page').then((m) => m.CommandDetailPage), title: 'Command · Pressluft' },
      { path: 'events', loadComponent: () => import('./pages/events.page').then((m) => m.EventsPage), title: 'Events · Pressluft' },
      { path: 'tokens', loadComponent: () => import('./pages/tokens.page').then((m) => m.TokensPage), title: 'Tokens · Pressluft' },
      { path: 'audit', loadComponent: () => import('./pages/audit.page').then((m) => m.AuditPage), title: 'Audit log · Pressluft' },
    ],
  },
  { path: '**', redirectTo: '' },
];
