import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A string or number as text; anything else (absent, an object) as ''. */
export const text = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

/** The value for machines (json, yaml), or the human text (table) made only when asked for. */
export function render(value: unknown, format: OutputFormat, human: () => string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return stringify(value);
    case 'table':
      return human();
  }
}

/** Columns padded to their widest cell, two spaces apart; the last column unpadded. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[headers, ...rows].map(line).join('\n')}\n`;
}

/** kubectl's short ages: 45s, 12m, 5h, 3d. */
export function age(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(seconds)) return '<unknown>';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export interface TokenRow {
  readonly id: string;
  readonly subject?: string;
  readonly node?: string;
  readonly role?: string;
  readonly state?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

export function tokensTable(items: readonly TokenRow[], now: Date): string {
  return table(
    ['ID', 'SUBJECT', 'ROLE', 'CREATED BY', 'AGE', 'REVOKED'],
    items.map((t) => [t.id, t.subject ?? '', t.role ?? '', t.createdBy, age(t.createdAt, now), t.revokedAt ? age(t.revokedAt, now) : '-']),
  );
}

export function joinTokensTable(items: readonly TokenRow[], now: Date): string {
  return table(
    ['ID', 'NODE', 'STATE', 'CREATED BY', 'AGE', 'EXPIRES'],
    items.map((t) => [t.id, t.node ?? '', t.state ?? '', t.createdBy, age(t.createdAt, now), t.expiresAt ?? '']),
  );
}

/** What a write did, kubectl's way: `backup/shop-20261207125000 created`. */
export function changed(kind: string | undefined, name: string, verb: string): string {
  return `${(kind ?? 'object').toLowerCase()}/${name} ${verb}\n`;
}
