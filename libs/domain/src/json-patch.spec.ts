import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from './json-patch.js';

describe('applyJsonPatch: RFC 6902 Appendix A', () => {
  it.each([
    ['A.1 add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 add an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 remove an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replace a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 move a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['A.7 move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      'A.8 test success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    ['A.10 add a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.11 ignore unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 add an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
  ])('%s', (_label, document, patch, expected) => {
    expect(applyJsonPatch(document, patch)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['A.9 test failure', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], 'patch[0].value'],
    ['A.12 add to a nonexistent target', { foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], 'patch[0].path'],
    ['A.15 comparing strings and numbers', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], 'patch[0].value'],
  ])('%s', (_label, document, patch, field) => {
    expect(applyJsonPatch(document, patch)).toMatchObject({ ok: false, error: { field } });
  });
});

describe('applyJsonPatch: semantics', () => {
  const site = () => ({
    metadata: { name: 'shop', labels: { team: 'web', 'app.kubernetes.io/name': 'shop' } },
    spec: { domains: ['a.test', 'b.test'], php: { maxChildren: 5 } },
  });

  it.each([
    ['append with -', [{ op: 'add', path: '/spec/domains/-', value: 'c.test' }], ['spec', 'domains'], ['a.test', 'b.test', 'c.test']],
    ['insert at the end index', [{ op: 'add', path: '/spec/domains/2', value: 'c.test' }], ['spec', 'domains'], ['a.test', 'b.test', 'c.test']],
    ['insert at 0', [{ op: 'add', path: '/spec/domains/0', value: 'z.test' }], ['spec', 'domains'], ['z.test', 'a.test', 'b.test']],
    ['add replaces an existing member', [{ op: 'add', path: '/spec/php/maxChildren', value: 9 }], ['spec', 'php', 'maxChildren'], 9],
    ['replace an array element', [{ op: 'replace', path: '/spec/domains/1', value: 'c.test' }], ['spec', 'domains'], ['a.test', 'c.test']],
    ['remove the last element', [{ op: 'remove', path: '/spec/domains/1' }], ['spec', 'domains'], ['a.test']],
    ['escaped slash in a label key', [{ op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'x' }], ['metadata', 'labels', 'app.kubernetes.io/name'], 'x'],
    ['copy a subtree', [{ op: 'copy', from: '/spec/php', path: '/spec/php2' }], ['spec', 'php2'], { maxChildren: 5 }],
    ['move a member', [{ op: 'move', from: '/metadata/labels/team', path: '/metadata/labels/owner' }], ['metadata', 'labels'], { owner: 'web', 'app.kubernetes.io/name': 'shop' }],
    ['move onto itself', [{ op: 'move', from: '/spec/php', path: '/spec/php' }], ['spec', 'php'], { maxChildren: 5 }],
    ['null is a value', [{ op: 'add', path: '/spec/nodeName', value: null }], ['spec', 'nodeName'], null],
    ['test deep equality ignores member order', [{ op: 'test', path: '/metadata/labels', value: { 'app.kubernetes.io/name': 'shop', team: 'web' } }], ['metadata', 'name'], 'shop'],
    ['later operations see earlier ones', [{ op: 'add', path: '/x', value: { y: [] } }, { op: 'add', path: '/x/y/-', value: 1 }], ['x'], { y: [1] }],
  ])('%s', (_label, patch, path, expected) => {
    const result = applyJsonPatch(site(), patch);
    expect(result.ok).toBe(true);
    const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], result.ok ? result.value : undefined);
    expect(value).toEqual(expected);
  });

  it.each([
    ['replace the whole document', [{ op: 'replace', path: '', value: { a: 1 } }], { a: 1 }],
    ['add at the root', [{ op: 'add', path: '', value: [1] }], [1]],
    ['an empty patch', [], site()],
  ])('%s', (_label, patch, expected) => {
    expect(applyJsonPatch(site(), patch)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['not an array', { op: 'add' }, 'patch', 'must be an array of operations'],
    ['an operation that is not an object', ['add'], 'patch[0]', 'must be an object with "op" and "path"'],
    ['unknown op', [{ op: 'merge', path: '/a' }], 'patch[0].op', 'must be one of: add, remove, replace, move, copy, test'],
    ['missing op', [{ path: '/a' }], 'patch[0].op', 'must be one of: add, remove, replace, move, copy, test'],
    ['missing path', [{ op: 'remove' }], 'patch[0].path', 'must be a JSON pointer string'],
    ['path without slash', [{ op: 'remove', path: 'spec' }], 'patch[0].path', 'must be empty or start with "/"'],
    ['bad escape', [{ op: 'remove', path: '/a~2b' }], 'patch[0].path', 'must escape "~" as ~0 and "/" as ~1'],
    ['trailing tilde', [{ op: 'remove', path: '/a~' }], 'patch[0].path', 'must escape "~" as ~0 and "/" as ~1'],
    ['add without value', [{ op: 'add', path: '/a' }], 'patch[0].value', 'is required'],
    ['replace without value', [{ op: 'replace', path: '/spec' }], 'patch[0].value', 'is required'],
    ['test without value', [{ op: 'test', path: '/spec' }], 'patch[0].value', 'is required'],
    ['move without from', [{ op: 'move', path: '/a' }], 'patch[0].from', 'must be a JSON pointer string'],
    ['copy from nowhere', [{ op: 'copy', from: '/nope', path: '/a' }], 'patch[0].from', '/nope does not exist'],
    ['move into a child of itself', [{ op: 'move', from: '/spec', path: '/spec/php/x' }], 'patch[0].path', 'must not be inside "from" (an object cannot move into itself)'],
    ['remove a missing member', [{ op: 'remove', path: '/spec/nope' }], 'patch[0].path', '/spec/nope does not exist'],
    ['replace a missing member', [{ op: 'replace', path: '/spec/nope', value: 1 }], 'patch[0].path', '/spec/nope does not exist'],
    ['remove past the end', [{ op: 'remove', path: '/spec/domains/2' }], 'patch[0].path', '/spec/domains/2: index 2 is out of bounds (length 2)'],
    ['add beyond the end', [{ op: 'add', path: '/spec/domains/3', value: 'x' }], 'patch[0].path', '/spec/domains/3: index 3 is out of bounds (length 2)'],
    ['leading zero index', [{ op: 'add', path: '/spec/domains/01', value: 'x' }], 'patch[0].path', '/spec/domains/01: "01" is not an array index'],
    ['negative index', [{ op: 'remove', path: '/spec/domains/-1' }], 'patch[0].path', '/spec/domains/-1: "-1" is not an array index'],
    ['- is only for add', [{ op: 'remove', path: '/spec/domains/-' }], 'patch[0].path', '/spec/domains/-: "-" is not an array index'],
    ['into a scalar', [{ op: 'add', path: '/metadata/name/x', value: 1 }], 'patch[0].path', '/metadata/name is not an object or array'],
    ['test failure names the value', [{ op: 'test', path: '/metadata/name', value: 'other' }], 'patch[0].value', 'test failed: the value at /metadata/name differs'],
    ['test of a missing path', [{ op: 'test', path: '/nope', value: 1 }], 'patch[0].path', '/nope does not exist'],
    ['the failing operation is named by index', [{ op: 'test', path: '/metadata/name', value: 'shop' }, { op: 'add', path: '/a', value: 1 }, { op: 'remove', path: '/zzz' }], 'patch[2].path', '/zzz does not exist'],
  ])('refuses %s', (_label, patch, field, message) => {
    expect(applyJsonPatch(site(), patch)).toEqual({ ok: false, error: { field, message } });
  });

  it('is all or nothing and never mutates the document or the patch', () => {
    const document = site();
    const value = { nested: [1] };
    const patch = [
      { op: 'add', path: '/spec/extra', value },
      { op: 'remove', path: '/spec/domains/0' },
      { op: 'remove', path: '/does/not/exist' },
    ];
    const before = JSON.stringify([document, patch]);
    expect(applyJsonPatch(document, patch).ok).toBe(false);
    expect(JSON.stringify([document, patch])).toBe(before);
  });

  it('copies values so the result shares nothing with the patch', () => {
    const value = { list: [1] };
    const result = applyJsonPatch({}, [{ op: 'add', path: '/a', value }, { op: 'copy', from: '/a', path: '/b' }]);
    const doc = (result.ok ? result.value : {}) as { a: { list: number[] }; b: { list: number[] } };
    doc.a.list.push(2);
    expect(value.list).toEqual([1]);
    expect(doc.b.list).toEqual([1]);
  });

  it('does not walk into inherited properties', () => {
    expect(applyJsonPatch({}, [{ op: 'test', path: '/constructor', value: {} }])).toMatchObject({ ok: false, error: { field: 'patch[0].path' } });
    expect(applyJsonPatch({}, [{ op: 'remove', path: '/toString' }])).toMatchObject({ ok: false, error: { field: 'patch[0].path' } });
  });

  it('adds a "__proto__" member as data', () => {
    const result = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]);
    const doc = (result.ok ? result.value : {}) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses absurdly long patches', () => {
    const patch = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '', value: {} }));
    expect(applyJsonPatch({}, patch)).toMatchObject({ ok: false, error: { field: 'patch' } });
  });
});

describe('applyJsonPatch size bound', () => {
  it('refuses a copy chain that would grow the document exponentially (2^40 values unbounded)', () => {
    const ops = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '/spec', path: `/spec/x${i}` }));
    const result = applyJsonPatch({ spec: { a: [1, 2, 3], b: { c: 'd' } } }, ops);
    expect(result).toMatchObject({ ok: false, error: { message: expect.stringContaining('would exceed') as unknown } });
  });

  it('allows copies that stay within the bound', () => {
    const result = applyJsonPatch({ spec: { a: 1 } }, [{ op: 'copy', from: '/spec/a', path: '/spec/b' }]);
    expect(result).toEqual({ ok: true, value: { spec: { a: 1, b: 1 } } });
  });
});
