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
  ])('refuses %s with exit 1', (_label, args, message) => {
    const result = wp(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('reads prompted values from stdin, one line each, in order', () => {
    const args = ['core', 'install', '--path=/nonexistent', '--url=u', '--admin_user=a', '--admin_email=a@b.test', '--prompt=title,admin_password'];
    // both lines there: the arguments are complete, it gets as far as the path
    expect(wp(args, 'My title\npassword\n').stderr).toMatch(/does not seem to be a WordPress installation/);
    // the second line missing: the prompt fails first
    expect(wp(args, 'My title\n').stderr).toMatch(/no value for admin_password on STDIN/);
  });
});
