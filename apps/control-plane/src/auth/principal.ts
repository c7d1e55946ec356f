export type Role = 'admin' | 'operator' | 'viewer';

/** Who is calling: the token's subject and role (the token itself never leaves the auth guard). */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
}
