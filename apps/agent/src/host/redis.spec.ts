import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aclRulesText, SITE_COMMAND_RULES, siteUserRules, sitePrefix, userMatches } from './redis.js';
import type { RespValue } from './resp.js';

const A = 'site_ax9z0k1m';
const P1 = 'a'.repeat(32);
const P2 = 'B2'.repeat(16);
const sha = (p: string) => createHash('sha256').update(p).digest('hex');

describe('sitePrefix', () => {
  it.each([
    ['site_ax9z0k1m', 'site_ax9z0k1m:'],
    ['site_00000000', 'site_00000000:'],
  ])('%s -> %s', (account, prefix) => expect(sitePrefix(account)).toBe(prefix));

  it.each([['site_AX9Z0K1M'], ['site_ax9z0k1'], ['site_*'], ['site_ax9z0k1m:*'], ['admin'], ['site_ax9z0k1m ~*']])('refuses %j (a glob or a second rule must never reach ACL SETUSER)', (account) => {
    expect(() => sitePrefix(account)).toThrow(/not a site account/);
  });
});

describe('siteUserRules', () => {
  it('resets the user first, then exactly its passwords, its own key prefix, no channels and the command rules', () => {
    expect(siteUserRules(A, [P1])).toEqual(['reset', 'on', `>${P1}`, `~${A}:*`, 'resetchannels', ...SITE_COMMAND_RULES]);
  });

  it.each([
    ['one password', [P1], [`>${P1}`]],
    ['two during a rotation', [P2, P1], [`>${P2}`, `>${P1}`]],
    ['a duplicate once', [P1, P1], [`>${P1}`]],
  ])('%s', (_name, passwords, expected) => {
    expect(siteUserRules(A, passwords).filter((r) => r.startsWith('>'))).toEqual(expected);
  });

  it.each([
    ['none', []],
    ['an empty one', ['']],
    ['a short one', ['abc']],
    ['one with a space (a second rule)', [`${P1} ~*`]],
    ['one that is a rule', ['nopass'.repeat(4)].map((p) => `${p} allkeys`)],
  ])('refuses %s', (_name, passwords) => {
    expect(() => siteUserRules(A, passwords)).toThrow(/16 or more letters and digits/);
  });

  // Later rules win: what the site may and may not run, as the rule list ends up.
  it.each([
    ['no server administration (CONFIG, ACL, MODULE, DEBUG, MONITOR, SHUTDOWN)', '-@admin'],
    ['nothing dangerous (KEYS, FLUSHALL, FLUSHDB, SWAPDB, MIGRATE, RESTORE, SORT)', '-@dangerous'],
    ['no Lua or functions', '-@scripting'],
    ['no pub/sub', '-@pubsub'],
    ['no SCAN', '-scan'],
    ['no RANDOMKEY', '-randomkey'],
    ['no DBSIZE', '-dbsize'],
    ['no CLIENT TRACKING (BCAST would name other sites\' keys)', '-client|tracking'],
  ])('denies: %s', (_name, rule) => {
    const rules = siteUserRules(A, [P1]);
    expect(rules).toContain(rule);
    // No later rule allows it again.
    const name = rule.slice(1);
    expect(rules.slice(rules.indexOf(rule) + 1).filter((r) => r === `+${name}` || r === '+@all' || r === 'allcommands')).toEqual([]);
  });

  it('starts from nothing and allows only the object cache\'s categories, plus INFO', () => {
    const allowed = SITE_COMMAND_RULES.filter((r) => r.startsWith('+'));
    expect(SITE_COMMAND_RULES[0]).toBe('-@all');
    expect(allowed).toEqual(['+@string', '+@hash', '+@list', '+@set', '+@sortedset', '+@keyspace', '+@transaction', '+@connection', '+info']);
    expect(siteUserRules(A, [P1]).filter((r) => r.startsWith('~') || r.startsWith('%') || r.startsWith('&') || r === 'allkeys' || r === 'allchannels')).toEqual([`~${A}:*`]);
  });
});

describe('userMatches (ACL GETUSER, verified after SETUSER)', () => {
  const reply = (over: Record<string, RespValue> = {}): RespValue => {
    const fields: Record<string, RespValue> = { flags: ['on', 'sanitize-payload'], passwords: [sha(P1)], commands: '-@all +get', keys: `~${A}:*`, channels: '', selectors: [], ...over };
    return Object.entries(fields).flat();
  };

  it.each([
    ['as set', reply(), [P1], true],
    ['both passwords, any order', reply({ passwords: [sha(P2), sha(P1)] }), [P1, P2], true],
    ['a password missing', reply(), [P1, P2], false],
    ['an extra password', reply({ passwords: [sha(P1), sha(P2)] }), [P1], false],
    ['disabled', reply({ flags: ['off'] }), [P1], false],
    ['every key', reply({ keys: '~*' }), [P1], false],
    ['another site\'s keys too', reply({ keys: `~${A}:* ~site_00000000:*` }), [P1], false],
    ['channels', reply({ channels: '&*' }), [P1], false],
    ['no user (nil)', null, [P1], false],
  ])('%s -> %s', (_name, got, passwords, expected) => {
    expect(userMatches(got, A, passwords)).toBe(expected);
  });
});

describe('aclRulesText (the redis.user fingerprint)', () => {
  const reply = (passwords: string[], keys = `~${A}:*`): RespValue => ['flags', ['sanitize-payload', 'on'], 'passwords', passwords.map(sha), 'commands', '-@all +get', 'keys', keys, 'channels', '', 'selectors', []];

  it('shows flags, commands, keys, channels and selectors, never a password hash', () => {
    const text = aclRulesText(reply([P1]));
    expect(text).toBe(`flags on sanitize-payload\ncommands "-@all +get"\nkeys "~${A}:*"\nchannels ""\nselectors []`);
    expect(text).not.toContain(sha(P1));
  });

  it.each([
    ['a rotated password', reply([P2]), true],
    ['two passwords during a rotation', reply([P1, P2]), true],
    ['every key added by hand', reply([P1], '~*'), false],
  ])('%s: same text %s', (_name, other, same) => {
    expect(aclRulesText(other) === aclRulesText(reply([P1]))).toBe(same);
  });
});
