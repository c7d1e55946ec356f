// Hostile tenant: the classic disable_functions bypass. PHP sets LD_PRELOAD (putenv) and makes PHP
// start a program (mail() and error_log(..., 1) run sendmail through /bin/sh): the preloaded
// library then runs native code as the site user, outside every PHP restriction.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec, execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { SiteHost } from '../site-host.js';
import { requireUser } from '../users.js';
import { hostHarness, RecordingReporter, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const site = hostileSite(`preload-${suffix}`);

/** Every way PHP could start a program with the environment putenv() set. */
const ATTACK = `<?php
$tried = [];
$calls = [
  'putenv' => fn () => putenv('LD_PRELOAD=' . $_GET['so']),
  'mail' => fn () => mail('a@example.test', 's', 'b'),
  'error_log to mail' => fn () => error_log('x', 1, 'a@example.test'),
  'mb_send_mail' => fn () => mb_send_mail('a@example.test', 's', 'b'),
  'ini_set sendmail_path' => fn () => ini_set('sendmail_path', '/bin/true'),
];
foreach ($calls as $name => $call) {
  try { $tried[$name] = var_export($call(), true); } catch (Throwable $e) { $tried[$name] = $e->getMessage(); }
}
echo json_encode($tried);
`;

describe('a hostile site trying the LD_PRELOAD escape', () => {
  const harness = hostHarness(services, `pressluft-hostile-preload-${suffix}`);
  const host = new SiteHost(harness.settings, createLogger({ name: 'hostile-preload', level: 'warn' }));
  const paths = sitePaths(harness.settings, site.name, site.id);
  // Inside the site's own tree: the one place its jail shows and lets it write.
  const library = join(paths.tmp, 'escape.so');
  const marker = join(paths.tmp, 'escaped');

  beforeAll(async () => {
    await host.provision(site, new RecordingReporter());
    const owner = await requireUser(`site_${site.id}`);
    // The library a tenant would upload: its constructor leaves a mark (and would do anything else).
    const source = join(harness.root, 'escape.c');
    writeFileSync(source, `#include <stdio.h>\n__attribute__((constructor)) static void escape(void) { FILE *f = fopen("${marker}", "w"); if (f) fclose(f); }\n`);
    await execOk(['/usr/bin/gcc', '-shared', '-fPIC', '-o', library, source]);
    chownSync(library, owner.uid, owner.gid);
    writeFileSync(join(paths.current, 'pressluft-preload.php'), ATTACK);
    chownSync(join(paths.current, 'pressluft-preload.php'), owner.uid, owner.gid);
  }, 180_000);

  afterAll(() => removeSites(host, harness, [site]), 120_000);

  it('is a real escape where PHP is unrestricted (control: php-cli without an ini, as the site user)', async () => {
    const owner = await requireUser(`site_${site.id}`);
    const control = await exec(['/usr/bin/php', '-n', '-d', 'sendmail_path=/bin/true', '-r', `putenv('LD_PRELOAD=${library}'); mail('a@example.test', 's', 'b');`], { uid: owner.uid, gid: owner.gid });
    expect(control.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
    // Gone again before the real attack.
    await execOk(['/bin/rm', '-f', marker]);
  });

  it("fails in the site's pool: putenv, mail and mb_send_mail do not exist, error_log cannot mail, sendmail_path is fixed", async () => {
    const answer = await siteRequest(services, site.domains[0] ?? '', `/pressluft-preload.php?so=${encodeURIComponent(library)}`);
    expect(answer.status).toBe(200);
    const tried = JSON.parse(answer.body) as Record<string, string>;
    expect(tried['putenv']).toContain('undefined function putenv()');
    expect(tried['mail']).toContain('undefined function mail()');
    expect(tried['mb_send_mail']).toContain('undefined function mb_send_mail()');
    expect(tried['ini_set sendmail_path']).toBe('false');
    expect(existsSync(marker)).toBe(false);
  });
});
