import { describe, expect, it } from 'vitest';
import { SETTINGS, shop } from '../../test/host-fixtures.js';
import { asSiteUser, hostToolDirs, isWithin, jailArgv, jailOps, mountPoints, phpCliEnv, siteJailLayout } from './jail.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';

const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '23 27 0:22 / /sys rw,relatime - sysfs sysfs rw',
  '24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,mode=755',
  '25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw',
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw',
  '31 27 0:28 / /mnt/with\\040space rw - tmpfs tmpfs rw',
  '32 22 0:29 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw',
  '33 27 0:30 / /var/www/sites/nfs rw - nfs srv:/x rw',
  '34 27 0:31 / /tmp rw - tmpfs tmpfs rw',
  '',
].join('\n');

describe('site jail', () => {
  it('reads each mount point once, octal escapes decoded', () => {
    expect(mountPoints(MOUNTINFO)).toEqual(['/proc', '/sys', '/dev', '/dev/shm', '/', '/mnt/with space', '/proc/sys/fs/binfmt_misc', '/var/www/sites/nfs', '/tmp']);
  });

  it.each([
    ['/var/www/sites/shop', '/var/www/sites', true],
    ['/var/www/sites', '/var/www/sites', true],
    ['/var/www/sites2', '/var/www/sites', false],
    ['/var/www', '/var/www/sites', false],
    ['/anything', '/', true],
  ])('%s within %s: %s', (path, dir, within) => {
    expect(isWithin(path, dir)).toBe(within);
  });

  const layout = {
    mountPoint: '/var/lib/pressluft/jail',
    hide: ['/var/www/sites', '/var/lib/pressluft'],
    keep: [
      { path: '/var/lib/pressluft/sock/site_ax9z0k1m', writable: true },
      { path: '/var/www/sites/shop', writable: true },
      { path: '/run/mysqld', writable: false },
    ],
    cgroupProcs: ['/sys/fs/cgroup/memory/pressluft/site_ax9z0k1m/cgroup.procs'],
  };

  it('joins the cgroup first, makes the whole host read-only, hides the sites and the state, binds back only what it keeps, then pivots', () => {
    expect(jailOps(layout, mountPoints(MOUNTINFO), '/var/www/sites/shop/tmp')).toEqual([
      'cgroup', '/sys/fs/cgroup/memory/pressluft/site_ax9z0k1m/cgroup.procs',
      'rbind', '/', '/var/lib/pressluft/jail',
      'ro', '/var/lib/pressluft/jail',
      // every host mount but those a jail mount covers (proc, the hidden paths, /tmp)
      'ro', '/var/lib/pressluft/jail/sys',
      'ro', '/var/lib/pressluft/jail/dev',
      'ro', '/var/lib/pressluft/jail/dev/shm',
      'ro', '/var/lib/pressluft/jail/mnt/with space',
      'proc', '/var/lib/pressluft/jail/proc',
      'tmpfs', '/var/lib/pressluft/jail/var/www/sites', 'mode=0755,nosuid,nodev,noexec',
      'tmpfs', '/var/lib/pressluft/jail/var/lib/pressluft', 'mode=0755,nosuid,nodev,noexec',
      'tmpfs', '/var/lib/pressluft/jail/tmp', 'mode=1777,nosuid,nodev',
      'bind', '/run/mysqld', '/var/lib/pressluft/jail/run/mysqld',
      'ro', '/var/lib/pressluft/jail/run/mysqld',
      'bind', '/var/lib/pressluft/sock/site_ax9z0k1m', '/var/lib/pressluft/jail/var/lib/pressluft/sock/site_ax9z0k1m',
      'bind', '/var/www/sites/shop', '/var/lib/pressluft/jail/var/www/sites/shop',
      'ro', '/var/lib/pressluft/jail/var/www/sites',
      'ro', '/var/lib/pressluft/jail/var/lib/pressluft',
      'pivot', '/var/lib/pressluft/jail',
      'chdir', '/var/www/sites/shop/tmp',
    ]);
  });

  it('covers a hidden path below /tmp by the private /tmp alone (test and single-server roots)', () => {
    const ops = jailOps({ mountPoint: '/tmp/h/state/jail', hide: ['/tmp/h/sites', '/tmp/h/state'], keep: [{ path: '/tmp/h/sites/shop', writable: true }], cgroupProcs: [] }, ['/'], '/');
    expect(ops.filter((op, i) => ops[i - 1] === 'tmpfs' || op === 'tmpfs')).toEqual(['tmpfs', '/tmp/h/state/jail/tmp']);
    expect(ops).toContain('/tmp/h/state/jail/tmp/h/sites/shop');
    expect(ops.filter((op) => op === 'ro')).toHaveLength(1);
  });

  it('keeps of a site: its tree and the database socket dir besides what the command needs; the sites root and the agent state hidden', () => {
    const { paths } = shop();
    const site = siteJailLayout(SETTINGS, paths, [{ path: paths.fpmDir, writable: true }], ['/sys/fs/cgroup/memory/p/site_ax9z0k1m']);
    expect(site).toEqual({
      mountPoint: `${SETTINGS.stateDir}/jail`,
      hide: [SETTINGS.sitesRoot, SETTINGS.stateDir],
      keep: [
        { path: paths.root, writable: true },
        { path: '/run/mysqld', writable: false },
        { path: paths.fpmDir, writable: true },
      ],
      cgroupProcs: ['/sys/fs/cgroup/memory/p/site_ax9z0k1m/cgroup.procs'],
    });
  });

  it('keeps the Redis socket dir too on a node with Redis (read-only)', () => {
    const { paths } = shop();
    const settings = { ...SETTINGS, redis: { socket: '/run/pressluft-redis/redis.sock', adminUser: 'pressluft-agent', adminPasswordFile: '/etc/pressluft/redis-admin-password' } };
    expect(siteJailLayout(settings, paths, [], []).keep).toEqual([
      { path: paths.root, writable: true },
      { path: '/run/mysqld', writable: false },
      { path: '/run/pressluft-redis', writable: false },
    ]);
  });

  it('spawns unshare with the fixed helper; a PID namespace whose PID 1 waits for the command, or the command in its place', () => {
    const jail = { helper: '/opt/pressluft/templates/jail/enter.sh', ops: ['chdir', '/'], pidNamespace: true };
    expect(jailArgv(jail, ['/usr/bin/php', '-v'])).toEqual([
      '/usr/bin/unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      '/bin/sh', '/opt/pressluft/templates/jail/enter.sh', 'chdir', '/', 'run', '--', '/usr/bin/php', '-v',
    ]);
    expect(jailArgv({ ...jail, pidNamespace: false }, ['/usr/sbin/php-fpm8.2'])).toEqual([
      '/usr/bin/unshare', '--mount', '--propagation', 'private', '--',
      '/bin/sh', '/opt/pressluft/templates/jail/enter.sh', 'chdir', '/', 'exec', '--', '/usr/sbin/php-fpm8.2',
    ]);
  });

  it('drops to the site user with no groups, no capabilities and no way to gain any', () => {
    expect(asSiteUser({ uid: 1001, gid: 1002 }, ['/usr/bin/php'])).toEqual([
      '/usr/bin/setpriv', '--reuid=1001', '--regid=1002', '--clear-groups', '--no-new-privs', '--bounding-set=-all', '--', '/usr/bin/php',
    ]);
  });

  it('gives the PHP CLI the pool limits through the scan dir, less what a command is allowed', () => {
    const env = phpCliEnv('/opt/t', ['/var/www/sites/shop/', '/x/'], ['putenv'], { HOME: '/h' });
    expect(env).toMatchObject({ HOME: '/h', PHP_INI_SCAN_DIR: ':/opt/t/php-cli', PRESSLUFT_OPEN_BASEDIR: '/var/www/sites/shop/:/x/' });
    expect(env['PRESSLUFT_DISABLE_FUNCTIONS']?.split(',')).toEqual(DISABLED_FUNCTIONS.filter((f) => f !== 'putenv'));
  });
});

describe('hostToolDirs', () => {
  it('binds back the tools and the php-cli ini dir only where the jail hides them (a checkout under /tmp)', () => {
    const settings = { ...SETTINGS, wpCli: ['/usr/bin/php', '/tmp/ci/main/tools/wp-cli/wp'], composer: ['/usr/bin/composer'] };
    expect(hostToolDirs(settings, '/tmp/ci/main/templates')).toEqual([
      { path: '/tmp/ci/main/tools/wp-cli', writable: false },
      { path: '/tmp/ci/main/templates/php-cli', writable: false },
    ]);
    expect(hostToolDirs(SETTINGS, '/opt/pressluft/templates')).toEqual([]);
  });
});
