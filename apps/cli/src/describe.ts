import type { ApiObject } from './api-client.js';
import { age, table, text } from './output.js';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A Kubernetes Event as the API serves it (its body at the top level). */
export interface EventObject extends ApiObject {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTimestamp?: string;
  readonly count?: number;
}

const SHOWN = 10;

/** A command's position among its site's commands (the fence only grows). */
export const fenceOf = (command: ApiObject): number => Number(command.spec?.['fence'] ?? 0);

/** A site's conditions, releases, recent commands and events on one screen. */
export function describeSite(site: ApiObject, events: readonly EventObject[], commands: readonly ApiObject[], now: Date): string {
  const spec = site.spec ?? {};
  const status = site.status ?? {};
  const domains = Array.isArray(spec['domains']) ? (spec['domains'] as string[]).join(', ') : '';
  const lines = [
    `Name:         ${site.metadata.name}`,
    `Environment:  ${text(spec['environment'])}`,
    `Phase:        ${text(status['phase']) || '<none>'}`,
    `Node:         ${text(status['nodeName'] ?? spec['nodeName']) || '<unscheduled>'}`,
    `Domains:      ${domains}`,
    `URL:          ${text(status['url']) || '<none>'}`,
    `Created:      ${text(site.metadata.creationTimestamp)} (${age(site.metadata.creationTimestamp, now)} ago)`,
    '',
  ];
  const conditions = Array.isArray(status['conditions']) ? (status['conditions'] as Condition[]) : [];
  section(lines, 'Conditions:', ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], conditions.map((c) => [text(c.type), text(c.status), text(c.reason), age(c.lastTransitionTime, now), text(c.message)]));

  const current = text(status['currentRelease']);
  const releases = Array.isArray(status['releases']) ? (status['releases'] as string[]) : [];
  lines.push('Releases:');
  lines.push(indent(releases.length ? releases.map((r) => `${r === current ? '* ' : '  '}${r}${r === current ? ' (current)' : ''}`).join('\n') + '\n' : '<none>\n'));

  const recent = [...commands].sort((a, b) => fenceOf(b) - fenceOf(a)).slice(0, SHOWN);
  section(
    lines,
    `Commands (newest ${SHOWN}):`,
    ['NAME', 'OPERATION', 'STATE', 'AGE', 'MESSAGE'],
    recent.map((c) => [c.metadata.name, text(c.spec?.['operation']), text(c.status?.['state']), age(c.metadata.creationTimestamp, now), text(c.status?.['message'])]),
  );

  const newest = [...events].sort((a, b) => text(b.lastTimestamp).localeCompare(text(a.lastTimestamp))).slice(0, SHOWN);
  section(lines, `Events (newest ${SHOWN}):`, ['TYPE', 'REASON', 'AGE', 'COUNT', 'MESSAGE'], newest.map((e) => [text(e.type), text(e.reason), age(e.lastTimestamp, now), text(e.count ?? 1), text(e.message)]));
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A titled, indented table, or <none>. */
function section(lines: string[], title: string, headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  lines.push(title);
  lines.push(indent(rows.length ? table(headers, rows) : '<none>\n'));
}

function indent(block: string): string {
  return block
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
