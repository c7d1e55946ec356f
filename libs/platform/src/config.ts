import { z } from 'zod';

/** A bad setting: names the environment variable and why it was refused. Never carries the value. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`invalid setting ${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment once, at boot, into a typed object. The schema's keys are the
 * environment variable names; the first bad setting stops the process with one clear message.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const known = Object.keys(schema.shape);
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const result = schema.safeParse(picked);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const setting = typeof issue?.path[0] === 'string' ? issue.path[0] : '(unknown)';
  throw new ConfigError(setting, issue?.message ?? 'invalid');
}

export const envPort = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a TCP port number' })
    .int({ message: 'must be an integer port' })
    .min(0, { message: 'must be between 0 and 65535' })
    .max(65535, { message: 'must be between 0 and 65535' })
    .default(fallback);

export const envUrl = (protocols: readonly string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with scheme ${protocols.join(' or ')}` },
    );

export const envBoolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
