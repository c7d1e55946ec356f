import { V1, type ApiClient, type ApiObject } from './api-client.js';
import { fenceOf } from './describe.js';
import { commandVerdict, follow, type Verdict } from './follow.js';
import { OperationFailed } from './errors.js';
import { text } from './output.js';

type Write = (text: string) => void;

const logOf = (command: ApiObject): string[] => (Array.isArray(command.status?.['log']) ? (command.status['log'] as string[]) : []);

/** Prints a command's log; with `follow`, the lines as they come until the command ends (its outcome is the exit code). */
export async function commandLogs(client: ApiClient, name: string, followIt: boolean, out: Write): Promise<void> {
  const command = await client.request<ApiObject>('GET', `${V1}/commands/${encodeURIComponent(name)}`);
  let printed = print(command, 0, out);
  if (!followIt) return;
  let verdict: Verdict | undefined = commandVerdict(command);
  if (!verdict) {
    await follow(client, 'commands', { fieldSelector: `metadata.name=${name}`, resourceVersion: command.metadata.resourceVersion ?? '' }, (event) => {
      printed = print(event.object, printed, out);
      verdict = commandVerdict(event.object);
      return verdict !== undefined;
    });
  }
  if (verdict && !verdict.ok) throw new OperationFailed(verdict.message, verdict.reason);
}

/**
 * Prints the site's newest command's log; with `follow`, goes on with its new lines and then
 * with each newer command (a header line names it) until interrupted.
 */
export async function siteLogs(client: ApiClient, site: string, followIt: boolean, out: Write, signal?: AbortSignal): Promise<void> {
  await client.request('GET', `${V1}/sites/${encodeURIComponent(site)}`);
  const list = await client.request<{ metadata: { resourceVersion?: string }; items: ApiObject[] }>('GET', `${V1}/commands?site=${encodeURIComponent(site)}`);
  const newest = [...list.items].sort((a, b) => fenceOf(b) - fenceOf(a))[0];
  let current = newest ? fenceOf(newest) : 0;
  let printed = 0;
  if (newest) {
    out(header(newest));
    printed = print(newest, 0, out);
  }
  if (!followIt) return;
  await follow(
    client,
    'commands',
    { site, resourceVersion: list.metadata.resourceVersion ?? '' },
    (event) => {
      const fence = fenceOf(event.object);
      if (fence < current) return false;
      if (fence > current) {
        current = fence;
        printed = 0;
        out(header(event.object));
      }
      printed = print(event.object, printed, out);
      return false;
    },
    signal,
  );
}

function header(command: ApiObject): string {
  return `==> ${command.metadata.name} (${text(command.spec?.['operation']) || 'command'})\n`;
}

/** The log lines after the first `from` (the log only grows); returns how many are printed now. */
function print(command: ApiObject, from: number, out: Write): number {
  const log = logOf(command);
  for (const line of log.slice(from)) out(`${line}\n`);
  return Math.max(from, log.length);
}
