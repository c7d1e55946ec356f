import { describe, expect, it } from 'vitest';
import { groupdelArgv, parseGroup, parseGroupName, parsePasswd, parseStatusUids, useraddArgv, userdelArgv } from './users.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nsite_ax9z0k1m:x:1001:1001:pressluft site shop:/var/www/sites/shop:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nwww-data:x:33:\nsite_ax9z0k1m:x:1001:\n';

describe('users', () => {
  it('pins the useradd argv: normal user, own group, no home, no password, nologin', () => {
    expect(useraddArgv('site_ax9z0k1m', '/var/www/sites/shop', 'pressluft site shop')).toEqual([
      '/usr/sbin/useradd',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/var/www/sites/shop',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      'pressluft site shop',
      'site_ax9z0k1m',
    ]);
    expect(useraddArgv('site_a', '/h', 'c').some((a) => a === '--password' || a === '-p' || a === '--system')).toBe(false);
    expect(userdelArgv('site_a')).toEqual(['/usr/sbin/userdel', 'site_a']);
    expect(groupdelArgv('site_a')).toEqual(['/usr/sbin/groupdel', 'site_a']);
  });

  it('parses /etc/passwd and /etc/group', () => {
    expect(parsePasswd(PASSWD, 'site_ax9z0k1m')).toEqual({ name: 'site_ax9z0k1m', uid: 1001, gid: 1001, home: '/var/www/sites/shop', shell: '/usr/sbin/nologin' });
    expect(parsePasswd(PASSWD, 'site_ax9z')).toBeUndefined();
    expect(parsePasswd(PASSWD, 'www')).toBeUndefined();
    expect(parseGroup(GROUP, 'www-data')).toBe(33);
    expect(parseGroup(GROUP, 'nobody')).toBeUndefined();
    expect(parseGroupName(GROUP, 33)).toBe('www-data');
    expect(parseGroupName(GROUP, 7)).toBeUndefined();
  });
});

describe('process owners', () => {
  it('reads the uids of /proc/<pid>/status', () => {
    expect(parseStatusUids('Name:\tphp-fpm8.2\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n')).toEqual([1001, 1001, 1001, 1001]);
    expect(parseStatusUids('Name:\tx\n')).toEqual([]);
  });
});
