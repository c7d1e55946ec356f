import { describe, expect, it } from 'vitest';
import { CappedBuffer, type KeepEnd } from './capped.js';

describe('CappedBuffer', () => {
  it.each([
    ['under the cap, head', 'head', 8, ['abc', 'de'], 'abcde', 0, false],
    ['under the cap, tail', 'tail', 8, ['abc', 'de'], 'abcde', 0, false],
    ['exactly the cap, head: full', 'head', 5, ['abc', 'de'], 'abcde', 0, true],
    ['over the cap, head keeps the first bytes', 'head', 4, ['abc', 'def', 'gh'], 'abcd\n[... 4 bytes dropped]', 4, true],
    ['over the cap, tail keeps the last bytes', 'tail', 4, ['abc', 'def', 'gh'], '[... 4 bytes dropped]\nefgh', 4, false],
    ['one chunk larger than the cap, tail', 'tail', 3, ['abcdefg'], '[... 4 bytes dropped]\nefg', 4, false],
    ['one chunk larger than the cap, head', 'head', 3, ['abcdefg'], 'abc\n[... 4 bytes dropped]', 4, true],
  ] as const)('%s', (_, keep: KeepEnd, limit, chunks, text, dropped, full) => {
    const buffer = new CappedBuffer(limit, keep);
    for (const chunk of chunks) buffer.push(Buffer.from(chunk));
    expect(buffer.text()).toBe(text);
    expect(buffer.dropped).toBe(dropped);
    expect(buffer.full).toBe(full);
  });
});
