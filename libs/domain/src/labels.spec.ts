import { describe, expect, it } from 'vitest';
import { LABEL_VALUE_MESSAGE, QUALIFIED_NAME_MESSAGE, validateLabelValue, validateQualifiedName } from './labels.js';

describe('validateQualifiedName', () => {
  it.each([
    'team',
    'a',
    'A',
    '9',
    'app_name',
    'app.name-1',
    'k'.repeat(63),
    'pressluft.io/site-cleanup',
    'app.kubernetes.io/name',
    'kubectl.kubernetes.io/last-applied-configuration',
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}/x`,
    'x-1.example/Name_9',
  ])('accepts %j', (key) => {
    expect(validateQualifiedName(key)).toBeUndefined();
  });

  it.each([
    '',
    'k'.repeat(64),
    '-team',
    'team-',
    '_team',
    'team.',
    'te am',
    'te;am',
    '/team',
    'pressluft.io/',
    'a/b/c',
    'Pressluft.io/x',
    '-a.io/x',
    'a..io/x',
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}/x`,
    '../x',
    'a/../b',
    '$(id)',
    'ü',
  ])('refuses %j', (key) => {
    expect(validateQualifiedName(key)).toBe(QUALIFIED_NAME_MESSAGE);
  });
});

describe('validateLabelValue', () => {
  it.each(['', 'web', 'v1.2.3', 'a_b-c', 'V'.repeat(63), '0'])('accepts %j', (value) => {
    expect(validateLabelValue(value)).toBeUndefined();
  });

  it.each(['v'.repeat(64), '-web', 'web-', '.web', 'web team', 'a/b', 'a;b', '$x', 'ä', 'x\n'])('refuses %j', (value) => {
    expect(validateLabelValue(value)).toBe(LABEL_VALUE_MESSAGE);
  });
});
