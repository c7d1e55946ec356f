/** What a backup holds, stored beside its parts as <site>/manifest.json (part=manifest). */
export interface BackupManifest {
  readonly site: string;
  readonly id: string;
  readonly domains: readonly string[];
  readonly backup: string;
  readonly release: string;
  readonly wordpressVersion: string;
  readonly gitCommit: string;
  /** Tables dumped under --lock-tables (not InnoDB). */
  readonly nonInnodbTables: readonly string[];
  /** RFC 3339 UTC: the snapshots' time. */
  readonly createdAt: string;
}

/** The manifest's JSON (format 1). Pure. */
export function renderManifest(manifest: BackupManifest): string {
  return `${JSON.stringify({ format: 1, ...manifest }, null, 2)}\n`;
}

/** Every name of a server block's server_name lines (the site's domains as nginx serves them). Pure. */
export function serverNames(block: string): string[] {
  const names: string[] = [];
  for (const match of block.matchAll(/^\s*server_name\s+([^;]+);/gm)) {
    for (const name of (match[1] ?? '').split(/\s+/)) if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}
