import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { ApiClient } from '../api-client.js';
import { writeConfig } from '../config.js';
import { configFile, type GlobalArgs, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { render } from '../output.js';

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** `login`: the token comes from a file or stdin, never from argv (other users see argv in ps). */
export function loginCommand(y: Argv<GlobalArgs>, io: Io): Argv<GlobalArgs> {
  return y.command(
    'login',
    'verify a token against the server and write the config (kubeconfig format, mode 0600)',
    (b) =>
      b
        .option('certificate-authority', { type: 'string', describe: "PEM file of the CA of the server's certificate (https)" })
        .option('token-file', { type: 'string', describe: 'file holding the API token' })
        .option('token-stdin', { type: 'boolean', describe: 'read the API token from stdin' })
        .conflicts('token-file', 'token-stdin')
        .check((a) => {
          if (!a.server) throw new Error('login needs --server URL');
          if (!/^https?:\/\/[^/]+\/?$/.test(a.server)) throw new Error(`--server must be http(s)://host[:port], not "${a.server}"`);
          if (!a['token-file'] && !a['token-stdin']) throw new Error('login needs --token-file FILE or --token-stdin (never the token itself as an argument)');
          return true;
        }),
    async (a) => {
      const token = (a['token-file'] ? readFile(a['token-file'], 'token file') : await io.readStdin()).trim();
      if (!token || /\s/.test(token)) throw new UsageError('the token must be one word (the file or stdin held none, or several)');
      const certificateAuthority = a['certificate-authority'] ? readFile(a['certificate-authority'], 'CA file') : undefined;
      const server = (a.server ?? '').replace(/\/$/, '');
      const client = new ApiClient({ server, token, ...(certificateAuthority ? { certificateAuthority } : {}) });
      const me = await client.request<{ subject: string; role: string }>('GET', '/auth/v1/whoami');
      const path = configFile(a, io);
      writeConfig(path, { server, token, subject: me.subject, ...(certificateAuthority ? { certificateAuthority } : {}) });
      io.out(render({ server, subject: me.subject, role: me.role, config: path }, a.output, () => `Logged in to ${server} as ${me.subject} (${me.role}); config written to ${path}\n`));
    },
  );
}
