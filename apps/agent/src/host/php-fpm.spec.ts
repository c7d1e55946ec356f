import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shop } from '../../test/host-fixtures.js';
import { fpmStartArgv, fpmTestArgv, isFpmMaster, renderFpmConfig } from './php-fpm.js';
import { processState } from './process-tree.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';
import { defaultTemplatesDir } from './template.js';

const dir = defaultTemplatesDir();
const templates = { global: readFileSync(join(dir, 'php-fpm/global.conf'), 'utf8'), pool: readFileSync(join(dir, 'php-fpm/pool.conf'), 'utf8') };

describe('php-fpm configuration', () => {
  const { plan, paths } = shop();
  const conf = renderFpmConfig(templates, plan, paths, 'www-data');
  const lines = conf.split('\n');
  const has = (line: string) => expect(lines).toContain(line);

  it('has one master per site with a safe reload', () => {
    has('[global]');
    has('pid = /var/lib/pressluft/php-fpm/shop/php-fpm.pid');
    has('daemonize = no');
    has('process_control_timeout = 10s');
  });

  it('runs one ondemand pool as the site user on its own socket', () => {
    has('[site_ax9z0k1m]');
    has('user = site_ax9z0k1m');
    has('group = site_ax9z0k1m');
    has('listen = /var/lib/pressluft/sock/site_ax9z0k1m/php.sock');
    has('listen.owner = site_ax9z0k1m');
    has('listen.group = www-data');
    has('listen.mode = 0660');
    has('pm = ondemand');
    has('pm.max_children = 5');
  });

  it('confines PHP to the site tree with its limits', () => {
    has('php_admin_value[memory_limit] = 256M');
    has('php_admin_value[upload_max_filesize] = 64M');
    has('php_admin_value[post_max_size] = 65M');
    has('php_admin_value[open_basedir] = /var/www/sites/shop/');
    has('php_admin_value[upload_tmp_dir] = /var/www/sites/shop/tmp');
    has('php_admin_value[session.save_path] = /var/www/sites/shop/tmp');
    has('php_admin_value[sys_temp_dir] = /var/www/sites/shop/tmp');
    const disabled = lines.find((l) => l.startsWith('php_admin_value[disable_functions] = '))?.split(' = ')[1]?.split(',') ?? [];
    expect(disabled).toEqual(expect.arrayContaining(['exec', 'passthru', 'shell_exec', 'system', 'proc_open', 'popen', 'pcntl_exec']));
  });

  it.each([
    ['the exec family and proc_*', ['exec', 'system', 'proc_open', 'proc_close', 'proc_get_status', 'proc_nice', 'proc_terminate']],
    ['mail through a local program', ['mail', 'mb_send_mail', 'imap_open', 'imap_mail']],
    ['the LD_PRELOAD bypass', ['putenv']],
    ['links and FIFOs', ['symlink', 'link', 'posix_mkfifo', 'posix_mknod']],
    ['native code', ['dl']],
    ['fork and signals', ['pcntl_fork', 'pcntl_exec', 'pcntl_signal', 'posix_kill']],
    ['identity changes', ['posix_setuid', 'posix_setgid', 'posix_seteuid', 'posix_setegid', 'posix_setsid']],
  ])('disables %s', (_what, functions) => {
    const disabled = lines.find((l) => l.startsWith('php_admin_value[disable_functions] = '))?.split(' = ')[1]?.split(',') ?? [];
    expect(disabled).toEqual(expect.arrayContaining(functions));
  });

  it('keeps what WordPress core calls on a request', () => {
    for (const needed of ['ini_set', 'set_time_limit', 'ignore_user_abort', 'error_log', 'chmod', 'fsockopen', 'curl_exec']) {
      expect(DISABLED_FUNCTIONS).not.toContain(needed);
    }
    expect(new Set(DISABLED_FUNCTIONS).size).toBe(DISABLED_FUNCTIONS.length);
  });

  it('builds the argv', () => {
    expect(fpmTestArgv('/usr/sbin/php-fpm8.2', '/c', '/p')).toEqual(['/usr/sbin/php-fpm8.2', '-t', '-y', '/c', '-p', '/p']);
    expect(fpmStartArgv('/usr/sbin/php-fpm8.2', '/c', '/p')).toEqual(['/usr/sbin/php-fpm8.2', '-F', '-y', '/c', '-p', '/p']);
  });
});

describe('isFpmMaster', () => {
  it('accepts the master of this config, by title or by argv', () => {
    expect(isFpmMaster('php-fpm: master process (/s/php-fpm.conf)\0\0\0', '/s/php-fpm.conf')).toBe(true);
    expect(isFpmMaster('/usr/sbin/php-fpm8.2\0-F\0-y\0/s/php-fpm.conf\0-p\0/s\0', '/s/php-fpm.conf')).toBe(true);
  });

  it('refuses another master, a worker, and a reused PID', () => {
    expect(isFpmMaster('php-fpm: master process (/t/php-fpm.conf)', '/s/php-fpm.conf')).toBe(false);
    expect(isFpmMaster('php-fpm: master process (/s/php-fpm.conf.old)', '/s/php-fpm.conf')).toBe(false);
    expect(isFpmMaster('php-fpm: pool site_a', '/s/php-fpm.conf')).toBe(false);
    expect(isFpmMaster('/usr/bin/vim\0/s/php-fpm.conf\0', '/s/php-fpm.conf')).toBe(false);
  });

  it('reads the state of /proc/<pid>/stat even with spaces and parentheses in the name', () => {
    expect(processState('42 (php-fpm: master process (/s/x)) S 1 42')).toBe('S');
    expect(processState('42 (a) b) Z 1')).toBe('Z');
  });
});
