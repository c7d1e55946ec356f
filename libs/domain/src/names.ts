/** A refusal of one field: the path (`spec.domains[0]`) and why. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Resource names (contract.md): lower-case, 1..40 characters, start with a letter. */
export const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Lower-case RFC 1123 hostnames with at least two labels; each label 1..63 characters. */
export const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const NAME_MESSAGE = `must match ${NAME_PATTERN.source} (lower-case letters, digits and '-', 1-40 characters, starting with a letter)`;

export const DOMAIN_MESSAGE = 'must be a lower-case RFC 1123 hostname such as shop.example.test';

export function validateName(value: unknown, field = 'metadata.name'): FieldError | undefined {
  if (typeof value !== 'string') return { field, message: 'must be a string' };
  if (!NAME_PATTERN.test(value)) return { field, message: NAME_MESSAGE };
  return undefined;
}

export function validateDomain(value: unknown, field: string): FieldError | undefined {
  if (typeof value !== 'string') return { field, message: 'must be a string' };
  if (!DOMAIN_PATTERN.test(value)) {
    return { field, message: DOMAIN_MESSAGE };
  }
  return undefined;
}
