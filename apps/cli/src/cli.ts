import yargs, { type Argv } from 'yargs';
import { inspectCommands } from './commands/inspect.js';
import { loginCommand } from './commands/login.js';
import { operationCommands } from './commands/operations.js';
import { tokenCommands } from './commands/tokens.js';
import type { GlobalArgs, Io } from './context.js';
import { UsageError } from './errors.js';
import { OUTPUT_FORMATS } from './output.js';

/** pressluftctl's parser: every command, strict (an unknown command or option is a usage error). */
export function buildCli(argv: readonly string[], io: Io): Argv<GlobalArgs> {
  const base = yargs([...argv])
    .scriptName('pressluftctl')
    .usage('$0 <command>\n\nThe Pressluft CLI for what kubectl cannot do. Exit codes: 0 done, 1 failed, 2 usage, 3 refused by the API, 4 unreachable or timed out.')
    .option('config', { type: 'string', global: true, describe: 'config file (default $PRESSLUFT_CONFIG or ~/.pressluft/config)' })
    .option('server', { type: 'string', global: true, describe: 'API server URL (overrides the config)' })
    .option('output', { alias: 'o', choices: OUTPUT_FORMATS, default: 'table' as const, global: true, describe: 'output format' });
  let cli = loginCommand(base, io);
  cli = operationCommands(cli, io);
  cli = tokenCommands(cli, io);
  cli = inspectCommands(cli, io);
  return cli
    .completion('completion', 'print the shell completion script (bash, zsh): source <(pressluftctl completion)')
    .demandCommand(1, 'a command is needed (pressluftctl --help lists them)')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs' own findings and what .check()/coerce throw (plain Errors) are usage errors;
      // an error from a handler (ApiError, OperationFailed, ...) travels on unchanged.
      if (error && error.constructor !== Error && error.name !== 'YError') throw error;
      throw new UsageError(error?.message ?? message);
    });
}
