import { describe, expect, it } from 'vitest';
import { formatLabelSelector, matchesLabels, parseLabelSelector, type LabelSelector } from './label-selector.js';

function parse(input: string): LabelSelector {
  const result = parseLabelSelector(input);
  if (!result.ok) throw new Error(result.error.message);
  return result.selector;
}

describe('parseLabelSelector', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['team=web', [{ key: 'team', operator: 'Equals', values: ['web'] }]],
    ['team==web', [{ key: 'team', operator: 'Equals', values: ['web'] }]],
    ['team!=web', [{ key: 'team', operator: 'NotEquals', values: ['web'] }]],
    ['team=', [{ key: 'team', operator: 'Equals', values: [''] }]],
    ['team', [{ key: 'team', operator: 'Exists', values: [] }]],
    ['!team', [{ key: 'team', operator: 'DoesNotExist', values: [] }]],
    ['! team', [{ key: 'team', operator: 'DoesNotExist', values: [] }]],
    ['env in (prod,staging)', [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }]],
    ['env in(prod)', [{ key: 'env', operator: 'In', values: ['prod'] }]],
    ['env notin ( a , b , a )', [{ key: 'env', operator: 'NotIn', values: ['a', 'b'] }]],
    ['app.kubernetes.io/name=shop', [{ key: 'app.kubernetes.io/name', operator: 'Equals', values: ['shop'] }]],
    [
      ' team = web , tier in (a,b), !legacy, canary ',
      [
        { key: 'team', operator: 'Equals', values: ['web'] },
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'canary', operator: 'Exists', values: [] },
      ],
    ],
    ['in=x', [{ key: 'in', operator: 'Equals', values: ['x'] }]],
  ])('parses %j', (input, selector) => {
    expect(parseLabelSelector(input)).toEqual({ ok: true, selector });
  });

  it.each([
    [',', 'expected a label key, found ","'],
    ['team=web,', 'expected a label key, found end of input'],
    ['team=web,,tier', 'expected a label key, found ","'],
    ['=web', 'expected a label key, found "="'],
    ['team=web=x', 'expected "," between requirements, found "="'],
    ['team web', 'expected an operator (=, ==, !=, in, notin) after "team", found "web"'],
    ['team in', 'expected "(", found end of input'],
    ['team in (a', 'expected "," or ")", found end of input'],
    ['team in ()', 'a value set must not be empty'],
    ['team in (a b)', 'expected "," or ")", found "b"'],
    ['team notin a', 'expected "(", found "a"'],
    ['!', 'expected a label key, found end of input'],
    ['!team=web', 'expected "," between requirements, found "="'],
    ['team)', 'expected an operator (=, ==, !=, in, notin) after "team", found ")"'],
    ['team>1', expect.stringContaining('invalid label key "team>1"') as unknown],
    ['te$m=web', expect.stringContaining('invalid label key "te$m"') as unknown],
    ['team=web;id', expect.stringContaining('invalid label value "web;id"') as unknown],
    ['team=$(id)', expect.stringContaining('invalid label value "$"') as unknown],
    ['team=../x', expect.stringContaining('invalid label value "../x"') as unknown],
    [`team=${'v'.repeat(64)}`, expect.stringContaining('invalid label value') as unknown],
    [`${'k'.repeat(64)}=v`, expect.stringContaining('invalid label key') as unknown],
    ['Example.com/a=b', expect.stringContaining('invalid label key') as unknown],
    ['team in (a,-b)', expect.stringContaining('invalid label value "-b"') as unknown],
  ])('refuses %j', (input, message) => {
    expect(parseLabelSelector(input)).toEqual({ ok: false, error: { field: 'labelSelector', message } });
  });

  it('clips echoed tokens so errors stay short', () => {
    const result = parseLabelSelector(`${'x'.repeat(3000)}!`);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error.message.length).toBeLessThan(400);
  });

  it('refuses selectors longer than 4096 characters', () => {
    expect(parseLabelSelector(`a=${'b'.repeat(4095)}`)).toEqual({ ok: false, error: { field: 'labelSelector', message: 'must be at most 4096 characters' } });
  });
});

describe('matchesLabels', () => {
  const labels = { team: 'web', tier: 'frontend', empty: '', 'app.kubernetes.io/name': 'shop' };

  it.each([
    ['', true],
    ['team=web', true],
    ['team==web', true],
    ['team=db', false],
    ['team!=db', true],
    ['team!=web', false],
    ['missing!=x', true],
    ['missing=x', false],
    ['team', true],
    ['missing', false],
    ['!missing', true],
    ['!team', false],
    ['empty=', true],
    ['empty', true],
    ['team in (web,db)', true],
    ['team in (db)', false],
    ['missing in (x)', false],
    ['team notin (db)', true],
    ['team notin (web)', false],
    ['missing notin (x)', true],
    ['team=web,tier=frontend', true],
    ['team=web,tier=backend', false],
    ['app.kubernetes.io/name=shop,!legacy', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesLabels(parse(selector), labels)).toBe(expected);
  });

  it('does not see inherited properties as labels', () => {
    expect(matchesLabels(parse('constructor'), {})).toBe(false);
    expect(matchesLabels(parse('!toString'), {})).toBe(true);
  });
});

describe('formatLabelSelector', () => {
  it.each(['team=web', 'team!=web', 'team', '!team', 'env in (a,b)', 'env notin (a)', 'a=1,!b,c in (x,y)'])('round-trips %j', (text) => {
    const selector = parse(text);
    expect(formatLabelSelector(selector)).toBe(text);
    expect(parse(formatLabelSelector(selector))).toEqual(selector);
  });
});
