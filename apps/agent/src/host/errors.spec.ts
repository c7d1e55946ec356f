import { describe, expect, it } from 'vitest';
import { messageOf, redact, StepError } from './errors.js';

describe('StepError', () => {
  it('carries the step and a CamelCase reason', () => {
    const error = new StepError('nginx', 'NginxConfigInvalid', 'nginx -t failed');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ step: 'nginx', reason: 'NginxConfigInvalid', message: 'nginx -t failed', name: 'StepError' });
  });

  it('redacts secrets from messages', () => {
    expect(redact("near 'PASSWORD('s3cret')' at line 1, s3cret again", ['s3cret', ''])).toBe("near 'PASSWORD('[REDACTED]')' at line 1, [REDACTED] again");
    expect(messageOf(new Error('x'))).toBe('x');
    expect(messageOf('y')).toBe('y');
  });
});
