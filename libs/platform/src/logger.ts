import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * Secrets never reach a log line: anything under these keys is replaced before serialisation.
 * Wildcards cover one level of nesting (`*.password`), the explicit paths cover request objects.
 */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  'token',
  'secret',
  'privateKey',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.privateKey',
  '*.authorization',
  '*.joinToken',
  '*.databaseUrl',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  readonly name: string;
  readonly level: string;
  /** Defaults to stdout; tests pass a stream to read what was written. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
      base: { service: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
