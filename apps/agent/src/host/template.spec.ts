import { describe, expect, it } from 'vitest';
import { defaultTemplatesDir, fpmValue, nginxValue, phpSingleQuoted, renderTemplate, TemplateError } from './template.js';

const plain = (value: string) => value;

describe('renderTemplate', () => {
  it('replaces placeholders, lists joined by a space, numbers as text', () => {
    expect(renderTemplate('a {{x}} b {{ y }} {{n}}', { x: '1', y: ['p', 'q'], n: 5 }, plain)).toBe('a 1 b p q 5');
  });

  it('escapes every value (each list item on its own)', () => {
    expect(renderTemplate('{{x}}', { x: ['a', 'b'] }, (v) => `<${v}>`)).toBe('<a> <b>');
  });

  it('refuses an unknown placeholder', () => {
    expect(() => renderTemplate('{{x}} {{typo}}', { x: '1' }, plain, 'nginx')).toThrow(new TemplateError('nginx: unknown placeholder {{typo}}'));
  });

  it('refuses a value no placeholder uses', () => {
    expect(() => renderTemplate('{{x}}', { x: '1', extra: '2' }, plain)).toThrow(/values without a placeholder: extra/);
  });

  it('refuses an empty list', () => {
    expect(() => renderTemplate('{{x}}', { x: [] }, plain)).toThrow(/empty list/);
  });

  it('leaves nginx variables and PHP code alone', () => {
    expect(renderTemplate('$uri {$a} {{x}}', { x: 'v' }, plain)).toBe('$uri {$a} v');
  });
});

describe('escapers', () => {
  it.each(['127.0.0.1:8081', '[::]:80', '/var/www/sites/shop/current', 'shop.example.test', '65m', 'unix:/run/x.sock'])('nginx accepts %s', (v) => {
    expect(nginxValue(v, 'x')).toBe(v);
  });

  it.each(['a b', 'a;b', 'a{', '}', '$host', '"x"', "'x'", '#', 'a\nb', ''])('nginx refuses %j', (v) => {
    expect(() => nginxValue(v, 'x')).toThrow(TemplateError);
  });

  it.each(['/var/lib/pressluft/php-fpm/shop/php.sock', '256M', 'site_ax9z0k1m', 'exec,system', '/srv/a/'])('php-fpm accepts %s', (v) => {
    expect(fpmValue(v, 'x')).toBe(v);
  });

  it.each(['a b', 'a;b', 'a\nb', '"x"', '$x', 'a=b'])('php-fpm refuses %j', (v) => {
    expect(() => fpmValue(v, 'x')).toThrow(TemplateError);
  });

  it('escapes a single-quoted PHP string', () => {
    expect(phpSingleQuoted("it's \\ fine", 'x')).toBe("it\\'s \\\\ fine");
    expect(phpSingleQuoted('$no {interpolation}', 'x')).toBe('$no {interpolation}');
    expect(() => phpSingleQuoted('a\0b', 'x')).toThrow(TemplateError);
  });
});

describe('defaultTemplatesDir', () => {
  it("finds the repository's templates/ from this module", () => {
    expect(defaultTemplatesDir()).toMatch(/\/templates$/);
  });

  it('fails with a hint when there is none', () => {
    expect(() => defaultTemplatesDir('/')).toThrow(/HostSettings.templatesDir/);
  });
});
