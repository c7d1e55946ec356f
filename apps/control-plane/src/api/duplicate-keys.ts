import { parse as parseJsonTree, type ValueNode } from '@humanwhocodes/momoa';
import { isMap, isScalar, isSeq, type Document } from 'yaml';

export type KeyPath = Array<string | number>;

/** Members written in a JSON text: its colons outside strings (in JSON, nothing else is a colon). */
function writtenMembers(text: string): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) count++;
  }
  return count;
}

/**
 * The path of the first key that appears twice in one JSON object (kube-apiserver's strict decoding
 * refuses those; JSON.parse would silently keep the last), or undefined. `text` must be valid JSON
 * and `keptMembers` the number of object members (nested ones included) that JSON.parse made of it
 * (body.ts measure counts them): when no member collapsed (the common case, a scan of the text),
 * there is no duplicate; otherwise momoa's tree says where.
 */
export function duplicateJsonKey(text: string, keptMembers: number): KeyPath | undefined {
  if (writtenMembers(text) === keptMembers) return undefined;
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
