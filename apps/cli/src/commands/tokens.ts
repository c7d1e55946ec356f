import type { Argv } from 'yargs';
import { clientFor, type GlobalArgs, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { joinTokensTable, render, tokensTable, type TokenRow } from '../output.js';
import { joinTokenCreateCall, parseDuration, revokeCall, tokenCreateCall } from '../requests.js';

type Created = TokenRow & { token: string };

/** The created token alone on stdout (`> file` keeps it), what it is on stderr; -o json|yaml: the whole answer. */
function printCreated(created: Created, what: string, args: GlobalArgs, io: Io): void {
  if (args.output === 'table') {
    io.err(`${what}, id ${created.id}. The token is shown once:\n`);
    io.out(`${created.token}\n`);
  } else {
    io.out(render(created, args.output, () => ''));
  }
}

/** What differs between API tokens and join tokens: the path, the table, how a row is named. */
interface TokenKind {
  readonly command: string;
  readonly path: 'tokens' | 'jointokens';
  readonly what: string;
  readonly table: (items: readonly TokenRow[], now: Date) => string;
  readonly owner: (row: TokenRow) => string;
}

/** `list` and `revoke <id>` of one kind of token. */
function listAndRevoke(t: Argv<GlobalArgs>, kind: TokenKind, io: Io): Argv<GlobalArgs> {
  return t
    .command('list', `list ${kind.what}s`, (b) => b, async (a) => {
      const list = await clientFor(a, io).request<{ items: TokenRow[] }>('GET', `/auth/v1/${kind.path}`);
      io.out(render(list, a.output, () => kind.table(list.items, io.now())));
    })
    .command(
      'revoke <id>',
      `revoke a ${kind.what}`,
      (b) => b.positional('id', { type: 'string', demandOption: true }),
      async (a) => {
        const call = revokeCall(kind.path, a.id);
        const revoked = await clientFor(a, io).request<TokenRow>(call.method, call.path);
        io.out(render(revoked, a.output, () => `${kind.what} ${revoked.id} (${kind.owner(revoked)}) revoked\n`));
      },
    )
    .demandCommand(1, `${kind.command} needs a subcommand: create, list or revoke`);
}

const API_TOKENS: TokenKind = { command: 'token', path: 'tokens', what: 'token', table: tokensTable, owner: (t) => t.subject ?? '' };
const JOIN_TOKENS: TokenKind = { command: 'join-token', path: 'jointokens', what: 'join token', table: joinTokensTable, owner: (t) => `node ${t.node ?? ''}` };

export function tokenCommands(y: Argv<GlobalArgs>, io: Io): Argv<GlobalArgs> {
  return y
    .command('token', 'API tokens (admins)', (t) =>
      listAndRevoke(
        t.command(
          'create',
          'create an API token (printed once)',
          (b) => b.option('subject', { type: 'string', demandOption: true }).option('role', { choices: ['admin', 'operator', 'viewer'] as const, demandOption: true }),
          async (a) => {
            const call = tokenCreateCall(a.subject, a.role);
            const created = await clientFor(a, io).request<Created>(call.method, call.path, call.body);
            printCreated(created, `token for ${a.subject} (${a.role}) created`, a, io);
          },
        ),
        API_TOKENS,
        io,
      ),
    )
    .command('join-token', 'join tokens for enrolling nodes (admins)', (t) =>
      listAndRevoke(
        t.command(
          'create',
          'create a join token for a node (printed once)',
          (b) => b.option('node', { type: 'string', demandOption: true }).option('ttl', { type: 'string', describe: 'how long it is valid: 90s, 30m, 1h (default 1h)' }),
          async (a) => {
            const ttl = a.ttl === undefined ? undefined : parseDuration(a.ttl);
            if (ttl !== undefined && ttl % 1000 !== 0) throw new UsageError('--ttl is whole seconds');
            const call = joinTokenCreateCall(a.node, ttl === undefined ? undefined : ttl / 1000);
            const created = await clientFor(a, io).request<Created>(call.method, call.path, call.body);
            printCreated(created, `join token for node ${a.node} created, valid until ${created.expiresAt ?? '?'}`, a, io);
          },
        ),
        JOIN_TOKENS,
        io,
      ),
    );
}
