import { describe, expect, it } from 'vitest';
import { validateDomain, validateName } from './names.js';

describe('validateName', () => {
  it.each(['a', 'shop', 'shop-2', 'a1', 'x'.repeat(40), 'ab-cd-ef'])('accepts %s', (name) => {
    expect(validateName(name)).toBeUndefined();
  });

  it.each([
    '', 'Shop', '1shop', '-shop', 'shop-', 'shop_1', 'shop.x', 'x'.repeat(41), 'shop;rm -rf /',
    '../etc', 'shop\n', ' shop', 'sh op', 'ßhop', '$(id)', '`id`',
  ])('refuses %j with the field path', (name) => {
    expect(validateName(name)).toMatchObject({ field: 'metadata.name' });
  });

  it('refuses non-strings', () => {
    expect(validateName(42)).toEqual({ field: 'metadata.name', message: 'must be a string' });
    expect(validateName(null, 'spec.nodeName')).toEqual({ field: 'spec.nodeName', message: 'must be a string' });
  });
});

describe('validateDomain', () => {
  it.each(['shop.example.test', 'a.b', 'x-1.example.com', `${'a'.repeat(63)}.test`, 'xn--bcher-kva.example'])(
    'accepts %s',
    (domain) => expect(validateDomain(domain, 'spec.domains[0]')).toBeUndefined(),
  );

  it.each([
    'localhost', 'Shop.example.test', '-a.example.test', 'a-.example.test', 'a..b', '.a.b', 'a.b.',
    `${'a'.repeat(64)}.test`, `${'a.'.repeat(127)}ab`, 'shop.example.test;id', 'shop example.test',
    '*.example.test', 'shop.example.test/../x', 'shop_1.example.test', '127.0.0.1:80',
  ])('refuses %j naming the field', (domain) => {
    expect(validateDomain(domain, 'spec.domains[1]')).toMatchObject({ field: 'spec.domains[1]' });
  });
});
