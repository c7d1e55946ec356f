import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envBoolean, envPort, envUrl, loadConfig } from './config.js';

const schema = z.object({
  APP_PORT: envPort(8080),
  APP_DB: envUrl(['postgres', 'postgresql'], 'postgres://localhost/app'),
  APP_DEBUG: envBoolean(false),
  APP_LEVEL: z.enum(['debug', 'info']).default('info'),
});

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    expect(loadConfig(schema, {})).toEqual({
      APP_PORT: 8080,
      APP_DB: 'postgres://localhost/app',
      APP_DEBUG: false,
      APP_LEVEL: 'info',
    });
  });

  it('treats empty strings as unset and coerces typed values', () => {
    const config = loadConfig(schema, { APP_PORT: '9000', APP_DB: '', APP_DEBUG: 'true' });
    expect(config.APP_PORT).toBe(9000);
    expect(config.APP_DB).toBe('postgres://localhost/app');
    expect(config.APP_DEBUG).toBe(true);
  });

  it.each([
    ['APP_PORT', 'eighty', 'must be a TCP port number'],
    ['APP_PORT', '70000', 'must be between 0 and 65535'],
    ['APP_PORT', '80.5', 'must be an integer port'],
    ['APP_DB', 'mysql://x/y', 'must be a URL with scheme postgres or postgresql'],
    ['APP_DB', 'not a url', 'must be a URL with scheme postgres or postgresql'],
    ['APP_DEBUG', 'yes', 'must be true or false'],
    ['APP_LEVEL', 'trace', 'Invalid option'],
  ])('refuses %s=%s with a message naming the setting', (setting, value, reason) => {
    let caught: unknown;
    try {
      loadConfig(schema, { [setting]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(`invalid setting ${setting}:`);
    expect(error.message).toContain(reason);
  });

  it('never echoes the refused value (it may be a secret)', () => {
    expect(() => loadConfig(schema, { APP_DB: 'mysql://root:hunter2@db/x' })).toThrow(/^invalid setting APP_DB: /);
    expect(() => loadConfig(schema, { APP_DB: 'mysql://root:hunter2@db/x' })).not.toThrow(/hunter2/);
  });

  it('ignores variables the schema does not name', () => {
    expect(loadConfig(schema, { OTHER: 'x' })).not.toHaveProperty('OTHER');
  });
});
