export type KindName = 'Node' | 'Site' | 'BackupStore' | 'Backup' | 'Restore' | 'ContentSync' | 'Promotion' | 'Event' | 'Command';

export const KIND_NAMES: readonly KindName[] = ['Node', 'Site', 'BackupStore', 'Backup', 'Restore', 'ContentSync', 'Promotion', 'Event', 'Command'];

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'date';
  description: string;
  priority: 0 | 1;
}

export interface KindInfo {
  kind: KindName;
  plural: string;
  singular: string;
  shortNames: string[];
  /** Kubernetes verbs for discovery. */
  verbs: string[];
  /** Whether the API serves the kind. */
  served: boolean;
  /** Event and Command are written by the control plane only. */
  userWritable: boolean;
  printerColumns: PrinterColumn[];
}

const WRITE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const READ_VERBS = ['get', 'list', 'watch'];

const NAME: PrinterColumn = { name: 'NAME', type: 'string', description: 'Name of the resource', priority: 0 };
const AGE: PrinterColumn = { name: 'AGE', type: 'date', description: 'Time since the resource was created', priority: 0 };

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    shortNames: ['nd'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'PHASE', type: 'string', description: 'Lifecycle phase of the node', priority: 0 },
      { name: 'LOAD', type: 'number', description: 'One-minute load average reported by the agent', priority: 0 },
      { name: 'SITES', type: 'integer', description: 'Number of sites bound to the node', priority: 0 },
      AGE,
      { name: 'PROVIDER', type: 'string', description: 'Where the node comes from (local, static, hetzner)', priority: 1 },
      { name: 'AGENT', type: 'string', description: 'Version of the node agent', priority: 1 },
    ],
  },
  {
    kind: 'Site',
    plural: 'sites',
    singular: 'site',
    shortNames: ['st'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'PHASE', type: 'string', description: 'Lifecycle phase of the site', priority: 0 },
      { name: 'NODE', type: 'string', description: 'Node the site is bound to', priority: 0 },
      { name: 'DOMAINS', type: 'string', description: 'Domains the site answers to', priority: 0 },
      { name: 'READY', type: 'string', description: 'Status of the Ready condition', priority: 0 },
      AGE,
      { name: 'ENVIRONMENT', type: 'string', description: 'production or staging', priority: 1 },
      { name: 'RELEASE', type: 'string', description: 'Release currently serving', priority: 1 },
    ],
  },
  {
    kind: 'BackupStore',
    plural: 'backupstores',
    singular: 'backupstore',
    shortNames: ['bs'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'REPOSITORY', type: 'string', description: 'The restic repository', priority: 0 },
      { name: 'CREDENTIALS', type: 'string', description: 'Whether credentials are stored (they are never shown)', priority: 0 },
      AGE,
    ],
  },
  {
    kind: 'Backup',
    plural: 'backups',
    singular: 'backup',
    shortNames: ['bk'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'SITE', type: 'string', description: 'Site the backup is of', priority: 0 },
      { name: 'REASON', type: 'string', description: 'Why the backup was taken', priority: 0 },
      { name: 'PHASE', type: 'string', description: 'How the backup run went', priority: 0 },
      { name: 'SIZE', type: 'string', description: 'Bytes the backup added to the repository', priority: 0 },
      AGE,
      { name: 'STORE', type: 'string', description: 'BackupStore it went to', priority: 1 },
      { name: 'RELEASE', type: 'string', description: 'Release it captured', priority: 1 },
    ],
  },
  {
    kind: 'Restore',
    plural: 'restores',
    singular: 'restore',
    shortNames: ['rs'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'SITE', type: 'string', description: 'Site being restored', priority: 0 },
      { name: 'BACKUP', type: 'string', description: 'Backup restored from', priority: 0 },
      { name: 'PHASE', type: 'string', description: 'How the restore run went', priority: 0 },
      AGE,
    ],
  },
  {
    kind: 'ContentSync',
    plural: 'contentsyncs',
    singular: 'contentsync',
    shortNames: ['csync'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'FROM', type: 'string', description: 'Site the content comes from', priority: 0 },
      { name: 'TO', type: 'string', description: 'Site overwritten with it', priority: 0 },
      { name: 'PARTS', type: 'string', description: 'What moves (database, uploads)', priority: 0 },
      { name: 'PHASE', type: 'string', description: 'How the sync run went', priority: 0 },
      AGE,
    ],
  },
  {
    kind: 'Promotion',
    plural: 'promotions',
    singular: 'promotion',
    shortNames: ['promo'],
    verbs: WRITE_VERBS,
    served: true,
    userWritable: true,
    printerColumns: [
      NAME,
      { name: 'FROM', type: 'string', description: 'Site whose code is promoted', priority: 0 },
      { name: 'TO', type: 'string', description: 'Site that gets it', priority: 0 },
      { name: 'COMMIT', type: 'string', description: 'The exact commit deployed', priority: 0 },
      { name: 'PHASE', type: 'string', description: 'How the promotion run went', priority: 0 },
      AGE,
    ],
  },
  {
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    shortNames: ['ev'],
    verbs: READ_VERBS,
    served: true,
    userWritable: false,
    printerColumns: [
      { name: 'LAST SEEN', type: 'date', description: 'Time since the event last occurred', priority: 0 },
      { name: 'TYPE', type: 'string', description: 'Normal or Warning', priority: 0 },
      { name: 'REASON', type: 'string', description: 'Why the event happened (CamelCase)', priority: 0 },
      { name: 'OBJECT', type: 'string', description: 'Object the event is about (kind/name)', priority: 0 },
      { name: 'MESSAGE', type: 'string', description: 'Human-readable description', priority: 0 },
      { name: 'COUNT', type: 'integer', description: 'How often the event occurred', priority: 1 },
      { name: 'NAME', type: 'string', description: 'Name of the event', priority: 1 },
    ],
  },
  {
    kind: 'Command',
    plural: 'commands',
    singular: 'command',
    shortNames: ['cmd'],
    verbs: READ_VERBS,
    served: true,
    userWritable: false,
    printerColumns: [
      NAME,
      { name: 'SITE', type: 'string', description: 'Site the command is for', priority: 0 },
      { name: 'NODE', type: 'string', description: 'Node the command was sent to', priority: 0 },
      { name: 'OPERATION', type: 'string', description: 'What the command does', priority: 0 },
      { name: 'STATE', type: 'string', description: 'Where the command is in its life', priority: 0 },
      { name: 'FENCE', type: 'integer', description: 'Fencing token of the command', priority: 0 },
      AGE,
    ],
  },
];

export function kindByPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}

export function kindByName(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** Plural, singular or short name, as kubectl accepts them (`sites`, `site`, `st`). */
export function kindByResourceName(name: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === name || k.singular === name || k.shortNames.includes(name));
}

export function isKindName(value: unknown): value is KindName {
  return typeof value === 'string' && (KIND_NAMES as readonly string[]).includes(value);
}
