import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';

/** Where in a YAML text a Status cause's field is (offsets for a lint diagnostic). */
export interface FieldRange {
  readonly field: string;
  readonly from: number;
  readonly to: number;
  readonly message: string;
}

/** spec.domains[0] -> ['spec', 'domains', 0]; metadata.labels[app.kubernetes.io/name] -> [..., 'app.kubernetes.io/name'] (formatPath's rendering). */
export function parseFieldPath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const match of field.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(/^[0-9]+$/.test(match[2]) ? Number(match[2]) : match[2]);
  }
  return out;
}

/**
 * Each cause at the deepest node of its path the text has: a scalar from its key to its value, a
 * map or list at its key, a field the text lacks at its parent's key (a missing required field),
 * the first line when nothing of the path is there.
 */
export function fieldRanges(text: string, causes: readonly { readonly field?: string; readonly message?: string }[]): FieldRange[] {
  const doc = parseDocument(text);
  const firstLine = Math.max(1, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'));
  return causes.map((cause) => {
    const field = cause.field ?? '';
    const message = cause.message ?? '';
    let node: unknown = doc.contents;
    let key: YamlNode | undefined;
    let found: { from: number; to: number } | undefined;
    for (const segment of parseFieldPath(field)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        key = pair.key as YamlNode;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        key = undefined;
        node = node.items[segment];
      } else break;
      found = rangeOf(key, node) ?? found;
    }
    return { field, message, ...(found ?? { from: 0, to: firstLine }) };
  });
}

function rangeOf(key: YamlNode | undefined, value: unknown): { from: number; to: number } | undefined {
  const keyRange = key?.range;
  const valueRange = isScalar(value) ? value.range : undefined;
  if (keyRange && valueRange) return { from: keyRange[0], to: valueRange[1] };
  if (keyRange) return { from: keyRange[0], to: keyRange[1] };
  if (valueRange) return { from: valueRange[0], to: valueRange[1] };
  const node = value as YamlNode | undefined;
  return node?.range ? { from: node.range[0], to: Math.min(node.range[1], node.range[0] + 1) } : undefined;
}
