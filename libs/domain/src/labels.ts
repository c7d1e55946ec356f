/** Kubernetes label rules (apimachinery validation.IsQualifiedName / IsValidLabelValue). */

const LABEL_NAME_SOURCE = '[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?';
const DNS_SUBDOMAIN_SOURCE = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';

/** Name part of a qualified name: 1..63 characters, alphanumeric at both ends. */
export const LABEL_NAME_PATTERN = new RegExp(`^${LABEL_NAME_SOURCE}$`);
/** A DNS subdomain: lower-case RFC 1123 labels joined by dots (at most 253 characters, checked apart). */
export const DNS_SUBDOMAIN_PATTERN = new RegExp(`^${DNS_SUBDOMAIN_SOURCE}$`);
/** Label/annotation keys and finalizers: `[prefix/]name`. Lengths are checked by validateQualifiedName. */
export const QUALIFIED_NAME_PATTERN = new RegExp(`^(${DNS_SUBDOMAIN_SOURCE}/)?${LABEL_NAME_SOURCE}$`);
/** Label values: empty, or like a label name. */
export const LABEL_VALUE_PATTERN = new RegExp(`^(${LABEL_NAME_SOURCE})?$`);

const NAME_RULE = "1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

export const QUALIFIED_NAME_MESSAGE = `must be a qualified name: an optional lower-case DNS subdomain prefix (at most 253 characters) and '/', then ${NAME_RULE}`;
export const LABEL_VALUE_MESSAGE = `must be empty or ${NAME_RULE}`;

/** Returns why a label key (or annotation key, or finalizer) is invalid, or undefined if it is fine. */
export function validateQualifiedName(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_PATTERN.test(prefix))) {
    return QUALIFIED_NAME_MESSAGE;
  }
  if (!LABEL_NAME_PATTERN.test(name)) return QUALIFIED_NAME_MESSAGE;
  return undefined;
}

export function validateLabelValue(value: string): string | undefined {
  return LABEL_VALUE_PATTERN.test(value) ? undefined : LABEL_VALUE_MESSAGE;
}
