import { ApiClient } from './api-client.js';
import { configPath, readConfig } from './config.js';
import type { OutputFormat } from './output.js';

/** What a command may touch of the world: output streams, stdin, environment, clock. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly errStream: NodeJS.WritableStream;
  readonly readStdin: () => Promise<string>;
  /** stdout is a terminal: progress bars instead of plain lines. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly now: () => Date;
}

/** The options every command has. */
export interface GlobalArgs {
  readonly config?: string;
  readonly server?: string;
  readonly output: OutputFormat;
}

export function configFile(args: GlobalArgs, io: Io): string {
  return args.config ?? configPath(io.env, io.home);
}

/** A client for the config's server (or --server) with its token and CA. */
export function clientFor(args: GlobalArgs, io: Io): ApiClient {
  const config = readConfig(configFile(args, io));
  return new ApiClient({ server: args.server ?? config.server, token: config.token, ...(config.certificateAuthority ? { certificateAuthority: config.certificateAuthority } : {}) });
}
