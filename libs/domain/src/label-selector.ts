import { validateLabelValue, validateQualifiedName } from './labels.js';
import { type FieldError } from './names.js';

export type SelectorOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** One value for Equals/NotEquals, one or more for In/NotIn, none for Exists/DoesNotExist. */
  readonly values: readonly string[];
}

/** An AND of requirements; empty matches everything. */
export type LabelSelector = readonly Requirement[];

export type LabelSelectorResult = { ok: true; selector: LabelSelector } | { ok: false; error: FieldError };

const FIELD = 'labelSelector';
/** Longer selectors are not honest queries. */
export const MAX_LABEL_SELECTOR_LENGTH = 4096;

type Token =
  | { kind: 'word'; text: string }
  | { kind: '!' | '=' | '==' | '!=' | '(' | ')' | ',' | 'end' };

/** Tokens like Kubernetes' selector lexer: words end at whitespace or one of ! = , ( ). */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (input.startsWith('==', i) || input.startsWith('!=', i)) {
      tokens.push({ kind: input.slice(i, i + 2) as '==' | '!=' });
      i += 2;
    } else if (c === '!' || c === '=' || c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c });
      i++;
    } else {
      let j = i;
      while (j < input.length && !/[\s!=(),]/.test(input.charAt(j))) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

class SelectorError extends Error {}

const clip = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);

/**
 * Parses the Kubernetes label selector syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, joined by commas (AND). Keys and values follow the label rules.
 */
export function parseLabelSelector(input: string): LabelSelectorResult {
  if (input.length > MAX_LABEL_SELECTOR_LENGTH) {
    return { ok: false, error: { field: FIELD, message: `must be at most ${MAX_LABEL_SELECTOR_LENGTH} characters` } };
  }
  const tokens = tokenize(input);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end' };
  const describe = (t: Token) => (t.kind === 'word' ? `"${clip(t.text)}"` : t.kind === 'end' ? 'end of input' : `"${t.kind}"`);

  const key = (): string => {
    const t = next();
    if (t.kind !== 'word') throw new SelectorError(`expected a label key, found ${describe(t)}`);
    const problem = validateQualifiedName(t.text);
    if (problem) throw new SelectorError(`invalid label key "${clip(t.text)}": ${problem}`);
    return t.text;
  };
  const value = (): string => {
    // An empty value is legal (`k=` selects labels with an empty value).
    const t = peek();
    if (t.kind !== 'word') return '';
    pos++;
    const problem = validateLabelValue(t.text);
    if (problem) throw new SelectorError(`invalid label value "${clip(t.text)}": ${problem}`);
    return t.text;
  };
  const valueSet = (): string[] => {
    const open = next();
    if (open.kind !== '(') throw new SelectorError(`expected "(", found ${describe(open)}`);
    const values: string[] = [];
    for (;;) {
      values.push(value());
      const t = next();
      if (t.kind === ')') break;
      if (t.kind !== ',') throw new SelectorError(`expected "," or ")", found ${describe(t)}`);
    }
    if (values.length === 1 && values[0] === '' ) throw new SelectorError('a value set must not be empty');
    return [...new Set(values)];
  };

  const requirement = (): Requirement => {
    if (peek().kind === '!') {
      pos++;
      return { key: key(), operator: 'DoesNotExist', values: [] };
    }
    const k = key();
    const t = peek();
    switch (t.kind) {
      case ',':
      case 'end':
        return { key: k, operator: 'Exists', values: [] };
      case '=':
      case '==':
        pos++;
        return { key: k, operator: 'Equals', values: [value()] };
      case '!=':
        pos++;
        return { key: k, operator: 'NotEquals', values: [value()] };
      case 'word':
        if (t.text === 'in' || t.text === 'notin') {
          pos++;
          return { key: k, operator: t.text === 'in' ? 'In' : 'NotIn', values: valueSet() };
        }
        throw new SelectorError(`expected an operator (=, ==, !=, in, notin) after "${clip(k)}", found ${describe(t)}`);
      case '!':
      case '(':
      case ')':
        throw new SelectorError(`expected an operator (=, ==, !=, in, notin) after "${clip(k)}", found ${describe(t)}`);
    }
  };

  try {
    const selector: Requirement[] = [];
    if (peek().kind === 'end') return { ok: true, selector };
    for (;;) {
      selector.push(requirement());
      const t = next();
      if (t.kind === 'end') break;
      if (t.kind !== ',') throw new SelectorError(`expected "," between requirements, found ${describe(t)}`);
    }
    return { ok: true, selector };
  } catch (error) {
    if (error instanceof SelectorError) return { ok: false, error: { field: FIELD, message: error.message } };
    throw error;
  }
}

/** Kubernetes semantics: != and notin also match objects without the label. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = has ? labels[req.key] : undefined;
    switch (req.operator) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'Equals':
      case 'In':
        return has && req.values.includes(value ?? '');
      case 'NotEquals':
      case 'NotIn':
        return !has || !req.values.includes(value ?? '');
    }
  });
}

/** The canonical text of a selector (for continue tokens and logs). */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((req) => {
      switch (req.operator) {
        case 'Exists':
          return req.key;
        case 'DoesNotExist':
          return `!${req.key}`;
        case 'Equals':
          return `${req.key}=${req.values[0] ?? ''}`;
        case 'NotEquals':
          return `${req.key}!=${req.values[0] ?? ''}`;
        case 'In':
          return `${req.key} in (${req.values.join(',')})`;
        case 'NotIn':
          return `${req.key} notin (${req.values.join(',')})`;
      }
    })
    .join(',');
}
