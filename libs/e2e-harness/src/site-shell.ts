import { chownSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '@pressluft/testing';

const WP_CLI = resolve(__dirname, '../../../tools/wp-cli/wp');

/**
 * What a site's own user can do to its site on a node (the end-to-end tests make and check
 * content as a tenant would): WP-CLI against its current release, and files in its uploads.
 */
export class SiteShell {
  constructor(private readonly sitesRoot: string) {}

  private owner(site: string): { uid: number; gid: number } {
    const { uid, gid } = statSync(join(this.sitesRoot, site, 'tmp'));
    return { uid, gid };
  }

  async wp(site: string, args: readonly string[]): Promise<string> {
    const root = join(this.sitesRoot, site);
    const { uid, gid } = this.owner(site);
    const out = await run(['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', '/usr/bin/php', WP_CLI, `--path=${join(root, 'current')}`, ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: join(root, 'tmp') },
    });
    return out.trim();
  }

  /** The path of an upload of the site. */
  upload(site: string, file: string): string {
    return join(this.sitesRoot, site, 'shared', 'uploads', file);
  }

  writeUpload(site: string, file: string, text: string): void {
    const path = this.upload(site, file);
    const { uid, gid } = this.owner(site);
    writeFileSync(path, text);
    chownSync(path, uid, gid);
  }
}
