import type { Argv } from 'yargs';
import { V1, type ApiObject } from '../api-client.js';
import { clientFor, type GlobalArgs, type Io } from '../context.js';
import { describeSite, type EventObject } from '../describe.js';
import { conditionVerdict, waitFor } from '../follow.js';
import { commandLogs, siteLogs } from '../logs.js';
import { render } from '../output.js';
import { parseDuration, parseLogsTarget, parseWaitFor, parseWaitTarget } from '../requests.js';

export function inspectCommands(y: Argv<GlobalArgs>, io: Io): Argv<GlobalArgs> {
  return y
    .command(
      'logs <target>',
      "a command's log lines (<command> or site/<name>: the site's newest command)",
      (b) => b.positional('target', { type: 'string', demandOption: true }).option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing lines as they come' }),
      async (a) => {
        const target = parseLogsTarget(a.target);
        const client = clientFor(a, io);
        if (target.kind === 'command') await commandLogs(client, target.name, a.follow, io.out);
        else await siteLogs(client, target.name, a.follow, io.out);
      },
    )
    .command('describe', 'one object in detail', (d) =>
      d
        .command(
          'site <name>',
          "a site's conditions, releases, recent commands and events",
          (b) => b.positional('name', { type: 'string', demandOption: true }),
          async (a) => {
            const client = clientFor(a, io);
            const name = encodeURIComponent(a.name);
            const site = await client.request<ApiObject>('GET', `${V1}/sites/${name}`);
            const [events, commands] = await Promise.all([
              client.request<{ items: EventObject[] }>('GET', `${V1}/events?involvedObject=sites/${name}`),
              client.request<{ items: ApiObject[] }>('GET', `${V1}/commands?site=${name}`),
            ]);
            io.out(render({ site, events: events.items, commands: commands.items }, a.output, () => describeSite(site, events.items, commands.items, io.now())));
          },
        )
        .demandCommand(1, 'describe needs a kind: site'),
    )
    .command(
      'wait <target>',
      'wait (on the watch stream) until site/<name> or node/<name> has a condition',
      (b) =>
        b
          .positional('target', { type: 'string', demandOption: true })
          .option('for', { type: 'string', demandOption: true, describe: 'condition=<Type>[=True|False|Unknown]' })
          .option('timeout', { type: 'string', default: '5m', describe: 'give up after (exit 4): 90s, 5m, 1h' }),
      async (a) => {
        const target = parseWaitTarget(a.target);
        const want = parseWaitFor(a.for);
        const timeoutMs = parseDuration(a.timeout);
        const client = clientFor(a, io);
        // A missing object is a refusal now (exit 3), not a wait until the timeout.
        await client.request('GET', `${V1}/${target.plural}/${target.name}`);
        const done = await waitFor(client, { ...target, verdict: conditionVerdict(want.type, want.status) }, undefined, timeoutMs);
        io.out(render(done, a.output, () => `${target.plural.slice(0, -1)}/${target.name} condition met: ${want.type}=${want.status}\n`));
      },
    );
}
