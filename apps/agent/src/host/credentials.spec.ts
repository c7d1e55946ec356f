import { describe, expect, it } from 'vitest';
import { loginArgv, loginDefaults, parseLogin, pendingPasswordFile, rotationPasswords } from './credentials.js';
import type { SitePaths } from './naming.js';

describe('credentials', () => {
  it('keeps the pending password next to the stored one, in the root-only state dir', () => {
    expect(pendingPasswordFile({ state: '/var/lib/pressluft/sites/shop' } as SitePaths)).toBe('/var/lib/pressluft/sites/shop/db-password.pending');
  });

  it('generates a new password, different from the stored one', () => {
    const values = ['old', 'old', 'fresh'];
    const generate = () => values.shift() ?? 'x';
    expect(rotationPasswords('old\n', undefined, generate)).toEqual({ old: 'old', next: 'fresh', resumed: false });
  });

  it('resumes an interrupted rotation with its pending password', () => {
    expect(rotationPasswords('old\n', 'pending\n', () => 'fresh')).toEqual({ old: 'old', next: 'pending', resumed: true });
    // Stored already equals pending: that rotation finished, this one starts anew.
    expect(rotationPasswords('same', 'same\n', () => 'fresh')).toEqual({ old: 'same', next: 'fresh', resumed: false });
    expect(rotationPasswords('old', '  \n', () => 'fresh')).toEqual({ old: 'old', next: 'fresh', resumed: false });
  });

  it('refuses to rotate without a stored password', () => {
    expect(() => rotationPasswords(undefined, 'p', () => 'x')).toThrow(/provision/);
    expect(() => rotationPasswords('\n', undefined, () => 'x')).toThrow(/provision/);
  });

  it('puts the password in an option file, never in argv', () => {
    expect(loginDefaults('site_ab12cd34', 'Secr3t', '/run/mysqld/mysqld.sock')).toBe('[client]\nuser="site_ab12cd34"\npassword="Secr3t"\nsocket="/run/mysqld/mysqld.sock"\n');
    expect(() => loginDefaults('u', 'a"b', '/s')).toThrow();
    expect(() => loginDefaults('u', 'a\nb', '/s')).toThrow();
    expect(() => loginDefaults('u', 'a\\b', '/s')).toThrow();
    // The error names no value.
    expect(() => loginDefaults('u', 'sec"ret', '/s')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('sec') as unknown }));
    const argv = loginArgv('/usr/bin/mariadb', '/state/.login-x/client.cnf');
    expect(argv).toEqual(['/usr/bin/mariadb', '--defaults-file=/state/.login-x/client.cnf', '--batch', '--skip-column-names']);
  });

  it('tells accepted, denied and other outcomes apart', () => {
    expect(parseLogin('site_a', 0, 'site_a@localhost\n', '')).toBe('accepted');
    expect(parseLogin('site_a', 0, 'root@localhost\n', '')).toBe('error');
    expect(parseLogin('site_a', 1, '', "ERROR 1045 (28000): Access denied for user 'site_a'@'localhost' (using password: YES)\n")).toBe('denied');
    expect(parseLogin('site_a', 1, '', "ERROR 1698 (28000): Access denied for user 'site_a'@'localhost'\n")).toBe('denied');
    expect(parseLogin('site_a', 1, '', "ERROR 2002 (HY000): Can't connect to local server through socket\n")).toBe('error');
  });
});
