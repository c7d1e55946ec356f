import { parse as parseJsonTree, type ValueNode } from '@humanwhocodes/momoa';
import { isMap, isScalar, isSeq, type Document } from 'yaml';

export type KeyPath = Array<string | number>;

/**
 * The path of the first key that appears twice in one JSON object (kube-apiserver's strict decoding
 * refuses those; JSON.parse would silently keep the last), or undefined. `text` must be valid JSON.
 */
export function duplicateJsonKey(text: string): KeyPath | undefined {
  const stack: Array<[ValueNode, KeyPath]> = [[parseJsonTree(text, { ranges: false, tokens: false }).body, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [ValueNode, KeyPath];
    if (node.type === 'Object') {
      const seen = new Set<string>();
      for (const member of node.members) {
        const key = member.name.type === 'String' ? member.name.value : member.name.name;
        if (seen.has(key)) return [...path, key];
        seen.add(key);
        stack.push([member.value, [...path, key]]);
      }
    } else if (node.type === 'Array') {
      node.elements.forEach((element, index) => stack.push([element.value, [...path, index]]));
    }
  }
  return undefined;
}

/** The same for a YAML document parsed with uniqueKeys off. */
export function duplicateYamlKey(document: Document): KeyPath | undefined {
  const stack: Array<[unknown, KeyPath]> = [[document.contents, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, KeyPath];
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) return [...path, key];
        seen.add(key);
        stack.push([pair.value, [...path, key]]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => stack.push([item, [...path, index]]));
    }
  }
  return undefined;
}
