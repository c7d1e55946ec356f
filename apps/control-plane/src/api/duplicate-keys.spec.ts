import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { measure } from './body.js';
import { duplicateJsonKey, duplicateYamlKey } from './duplicate-keys.js';

describe('duplicateJsonKey', () => {
  it.each([
    ['{}', undefined],
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', ['a']],
    ['{"a":{"b":1},"c":{"b":2}}', undefined],
    ['{"spec":{"php":{"m":1,"m":1}}}', ['spec', 'php', 'm']],
    ['[{"op":"add","op":"remove"}]', [0, 'op']],
    ['{"list":[{"x":1},{"y":1,"y":2}]}', ['list', 1, 'y']],
    ['{"a\\u0062":1,"ab":2}', ['ab']],
    ['{"__proto__":1,"__proto__":2}', ['__proto__']],
    ['"text"', undefined],
    ['[1,[2,[3]]]', undefined],
    ['{"a:b":1,"c":"x:y\\":z","d":{"e\\"":[{"f":":"}]}}', undefined],
    ['{"k":"\\\\","k":2}', ['k']],
    ['{"a":{},"b":[],"c":[{}]}', undefined],
  ])('%s -> %j', (text, path) => {
    expect(duplicateJsonKey(text, measure(JSON.parse(text)).members)).toEqual(path);
  });
});

describe('duplicateYamlKey', () => {
  it.each([
    ['a: 1\nb: 2\n', undefined],
    ['a: 1\na: 2\n', ['a']],
    ['spec:\n  wordpress:\n    title: x\n    title: y\n', ['spec', 'wordpress', 'title']],
    ['items:\n  - x: 1\n  - y: 1\n    y: 2\n', ['items', 1, 'y']],
    ['{a: 1, "a": 2}', ['a']],
    ['1: x\n"1": y\n', ['1']],
  ])('%j -> %j', (text, path) => {
    expect(duplicateYamlKey(parseDocument(text, { uniqueKeys: false }))).toEqual(path);
  });
});
