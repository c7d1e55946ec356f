import { describe, expect, it } from 'vitest';
import { failsAs, messageOf, redact, StepError } from './errors.js';

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

describe('failsAs', () => {
  it("gives a part's plain failure the step and reason; a StepError keeps its own", async () => {
    await expect(failsAs('files', 'RestoreFailed', Promise.reject(new Error('tar exited with code 2')))).rejects.toMatchObject({ step: 'files', reason: 'RestoreFailed', message: 'files: tar exited with code 2' });
    await expect(failsAs('files', 'RestoreFailed', Promise.reject(new StepError('files', 'BackupInvalid', 'no release')))).rejects.toMatchObject({ reason: 'BackupInvalid' });
    await expect(failsAs('files', 'RestoreFailed', Promise.resolve(3))).resolves.toBe(3);
  });
});
