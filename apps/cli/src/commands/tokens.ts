import type { Argv } from 'yargs';
import { clientFor, type GlobalArgs, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { joinTokensTable, render, tokensTable, type TokenRow } from '../output.js';
import { joinTokenCreateCall, parseDuration, revokeCall, tokenCreateCall } from '../requests.js';

/** The created token alone on stdout (`> file` keeps it), what it is on stderr; -o json|yaml: the whole answer. */
function printCreated(created: TokenRow & { token: string }, what: string, args: GlobalArgs, io: Io): void {
  if (args.output === 'table') {
    io.err(`${what}, id ${created.id}. The token is shown once:\n`);
    io.out(`${created.token}\n`);
  } else {
    io.out(render(created, args.output, () => ''));
  }
}

export function tokenCommands(y: Argv<GlobalArgs>, io: Io): Argv<GlobalArgs> {
  return y
    .command('token', 'API tokens (admins)', (t) =>
      t
        .command(
          'create',
          'create an API token (printed once)',
          (b) => b.option('subject', { type: 'string', demandOption: true }).option('role', { choices: ['admin', 'operator', 'viewer'] as const, demandOption: true }),
          async (a) => {
            const call = tokenCreateCall(a.subject, a.role);
            const created = await clientFor(a, io).request<TokenRow & { token: string }>(call.method, call.path, call.body);
            printCreated(created, `token for ${a.subject} (${a.role}) created`, a, io);
          },
        )
        .command('list', 'list API tokens', (b) => b, async (a) => {
          const list = await clientFor(a, io).request<{ items: TokenRow[] }>('GET', '/auth/v1/tokens');
          io.out(render(list, a.output, () => tokensTable(list.items, io.now())));
        })
        .command(
          'revoke <id>',
          'revoke an API token',
          (b) => b.positional('id', { type: 'string', demandOption: true }),
          async (a) => {
            const call = revokeCall('tokens', a.id);
            const revoked = await clientFor(a, io).request<TokenRow>(call.method, call.path);
            io.out(render(revoked, a.output, () => `token ${revoked.id} (${revoked.subject ?? ''}) revoked\n`));
          },
        )
        .demandCommand(1, 'token needs a subcommand: create, list or revoke'),
    )
    .command('join-token', 'join tokens for enrolling nodes (admins)', (t) =>
      t
        .command(
          'create',
          'create a join token for a node (printed once)',
          (b) => b.option('node', { type: 'string', demandOption: true }).option('ttl', { type: 'string', describe: 'how long it is valid: 90s, 30m, 1h (default 1h)' }),
          async (a) => {
            const ttl = a.ttl === undefined ? undefined : parseDuration(a.ttl);
            if (ttl !== undefined && ttl % 1000 !== 0) throw new UsageError('--ttl is whole seconds');
            const call = joinTokenCreateCall(a.node, ttl === undefined ? undefined : ttl / 1000);
            const created = await clientFor(a, io).request<TokenRow & { token: string }>(call.method, call.path, call.body);
            printCreated(created, `join token for node ${a.node} created, valid until ${created.expiresAt ?? '?'}`, a, io);
          },
        )
        .command('list', 'list join tokens', (b) => b, async (a) => {
          const list = await clientFor(a, io).request<{ items: TokenRow[] }>('GET', '/auth/v1/jointokens');
          io.out(render(list, a.output, () => joinTokensTable(list.items, io.now())));
        })
        .command(
          'revoke <id>',
          'revoke a join token',
          (b) => b.positional('id', { type: 'string', demandOption: true }),
          async (a) => {
            const call = revokeCall('jointokens', a.id);
            const revoked = await clientFor(a, io).request<TokenRow>(call.method, call.path);
            io.out(render(revoked, a.output, () => `join token ${revoked.id} (node ${revoked.node ?? ''}) revoked\n`));
          },
        )
        .demandCommand(1, 'join-token needs a subcommand: create, list or revoke'),
    );
}
