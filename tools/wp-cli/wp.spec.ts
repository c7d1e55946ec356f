import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const WP = join(__dirname, 'wp');

function wp(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/usr/bin/php', [WP, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The argument handling of the WP-CLI stand-in; `core install` and `core is-installed` against a
// real database run in apps/agent/src/host/site-host.int.spec.ts.
describe('tools/wp-cli/wp', () => {
  it('prints the version of a WordPress tree without loading it', () => {
    const result = wp(['core', 'version', '--path=/usr/share/wordpress']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\.\d+(\.\d+)?\n$/);
  });

  it.each([
    ['an unknown subcommand', ['core', 'update', '--path=/usr/share/wordpress'], /not a wp command this stand-in implements/],
    ['no subcommand', [], /not a wp command/],
    ['an unknown flag', ['core', 'is-installed', '--path=/usr/share/wordpress', '--allow-root'], /unknown --allow-root parameter/],
    ['a value for a flag', ['core', 'install', '--skip-email=yes', '--url=u', '--title=t', '--admin_user=a', '--admin_email=a@b.test'], /--skip-email is a flag/],
    ['a parameter without a value', ['core', 'install', '--url', '--title=t', '--admin_user=a', '--admin_email=a@b.test'], /--url needs a value/],
    ['missing parameters', ['core', 'install', '--path=/usr/share/wordpress', '--url=u'], /missing --title, --admin_user, --admin_email parameter/],
    ['a prompt for an unknown parameter', ['core', 'install', '--prompt=secret'], /secret is not a parameter/],
    ['search-replace without its two values', ['search-replace', '//a.example', '--path=/usr/share/wordpress'], /Usage: wp search-replace <old> <new>/],
    ['a path that holds no WordPress', ['core', 'is-installed', '--path=/nonexistent'], /does not seem to be a WordPress installation/],
    ['post create without a title', ['post', 'create', '--path=/usr/share/wordpress'], /missing --post_title parameter/],
    ['post delete without an id', ['post', 'delete', '--force', '--path=/usr/share/wordpress'], /wp post delete takes 1 positional/],
    ['option update without a value', ['option', 'update', 'blogname', '--path=/usr/share/wordpress'], /wp option update takes 2 positional/],
    ['cron event run without --due-now (WP-CLI’s message)', ['cron', 'event', 'run', '--path=/usr/share/wordpress'], /Please specify one or more cron events, or use --due-now\/--all\./],
    ['cron event run of named hooks (not implemented)', ['cron', 'event', 'run', 'my_hook', '--due-now', '--path=/usr/share/wordpress'], /wp cron event run takes 0 positional/],
    ['cron event run --all (not implemented)', ['cron', 'event', 'run', '--all', '--path=/usr/share/wordpress'], /unknown --all parameter/],
  ])('refuses %s with exit 1', (_label, args, message) => {
    const result = wp(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it.each<[string, string, string, [string, string]?]>([
    // [what, the stored value (a PHP expression), the value after `search-replace //old.test //new-site.example.test` (or [old, new])]
    ['a plain string, http and https forms', `'<a href="http://old.test/a">https://old.test/b</a>'`, `'<a href="http://new-site.example.test/a">https://new-site.example.test/b</a>'`],
    ['a serialized array, short to long domain', `'a:1:{i:0;s:15:"http://old.test";}'`, `'a:1:{i:0;s:28:"http://new-site.example.test";}'`],
    ['a serialized array, long back to short (the reverse run)', `'a:1:{i:0;s:28:"http://new-site.example.test";}'`, `'a:1:{i:0;s:15:"http://old.test";}'`, ['//new-site.example.test', '//old.test']],
    ['keys and nested arrays', `serialize(['home' => 'http://old.test', 'menu' => [['url' => 'https://old.test/x', 'n' => 3]], 'on' => true])`, `serialize(['home' => 'http://new-site.example.test', 'menu' => [['url' => 'https://new-site.example.test/x', 'n' => 3]], 'on' => true])`],
    ['a serialized stdClass object', `serialize((object) ['url' => 'http://old.test', 'deep' => (object) ['u' => '//old.test']])`, `serialize((object) ['url' => 'http://new-site.example.test', 'deep' => (object) ['u' => '//new-site.example.test']])`],
    ['a serialized string inside a serialized array (double serialization)', `serialize(['widget' => serialize(['url' => 'http://old.test'])])`, `serialize(['widget' => serialize(['url' => 'http://new-site.example.test'])])`],
    ['a serialized string at the top', `serialize('http://old.test')`, `serialize('http://new-site.example.test')`],
    ['multibyte text (lengths in bytes)', `serialize(['t' => 'Über http://old.test ✓ 日本'])`, `serialize(['t' => 'Über http://new-site.example.test ✓ 日本'])`],
    ['a value that merely looks serialized (wrong length): a plain replace', `'s:5:"http://old.test";'`, `'s:5:"http://new-site.example.test";'`],
    ['a broken serialized array: a plain replace', `'a:1:{i:0;s:15:"http://old.test";'`, `'a:1:{i:0;s:15:"http://new-site.example.test";'`],
    ['serialized false and integers stay', `'b:0;'`, `'b:0;'`],
    ['an object of a class not loaded stays as it is', `'O:10:"Foo_Widget":1:{s:3:"url";s:15:"http://old.test";}'`, `'O:10:"Foo_Widget":1:{s:3:"url";s:15:"http://old.test";}'`],
  ])('search-replace rewrites %s', (_label, stored, expected, [old, next] = ['//old.test', '//new-site.example.test']) => {
    const driver = [
      "$source = file_get_contents(getenv('WP_FILE'));",
      "foreach (['wpcli_warning', 'wpcli_replace_value'] as $name) { preg_match('/^function ' . $name . '\\(.*?^}$/ms', $source, $m); eval($m[0]); }",
      `echo json_encode([wpcli_replace_value(${stored}, '${old}', '${next}'), ${expected}]);`,
    ].join('\n');
    const result = spawnSync('/usr/bin/php', ['-r', driver], { encoding: 'utf8', env: { WP_FILE: WP }, timeout: 20_000 });
    expect(result.status).toBe(0);
    const [actual, wanted] = JSON.parse(result.stdout) as [string, string];
    expect(actual).toBe(wanted);
    if (stored.includes('Foo_Widget')) expect(result.stderr).toContain('Warning: Skipping an uninitialized class "Foo_Widget", replacements might not be complete.');
  });

  it('reads prompted values from stdin, one line each, in order', () => {
    const args = ['core', 'install', '--path=/nonexistent', '--url=u', '--admin_user=a', '--admin_email=a@b.test', '--prompt=title,admin_password'];
    // both lines there: the arguments are complete, it gets as far as the path
    expect(wp(args, 'My title\npassword\n').stderr).toMatch(/does not seem to be a WordPress installation/);
    // the second line missing: the prompt fails first
    expect(wp(args, 'My title\n').stderr).toMatch(/no value for admin_password on STDIN/);
  });
});
