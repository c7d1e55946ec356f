import type { KindInfo } from '@pressluft/domain';
import { PressluftError } from '../common/errors.js';
import type { Principal, Role } from './principal.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

const READS: ReadonlySet<Verb> = new Set(['get', 'list', 'watch']);

/**
 * Who may do what. viewer: read everything. operator: also change sites, backups and restores
 * (the day-to-day work). admin: also nodes and backup stores (infrastructure and its
 * credentials) and API tokens.
 */
export function isAllowed(role: Role, verb: Verb, kind: KindInfo): boolean {
  if (READS.has(verb)) return true;
  switch (role) {
    case 'admin':
      return true;
    case 'operator':
      return kind.kind !== 'Node' && kind.kind !== 'BackupStore';
    case 'viewer':
      return false;
  }
}

export function authorize(principal: Principal, verb: Verb, kind: KindInfo): void {
  if (!isAllowed(principal.role, verb, kind)) {
    throw new PressluftError(
      'Forbidden',
      `${kind.plural} is forbidden: User "${principal.subject}" (role ${principal.role}) cannot ${verb} resource "${kind.plural}" in API group "pressluft.io"`,
      [],
      { kind: kind.plural },
    );
  }
}

export function requireAdmin(principal: Principal, what: string): void {
  if (principal.role !== 'admin') {
    throw new PressluftError('Forbidden', `User "${principal.subject}" (role ${principal.role}) cannot ${what}: only admins can`);
  }
}
