import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes structured JSON with the service name and a level label', () => {
    const { lines, stream } = capture();
    createLogger({ name: 'control-plane', level: 'info', destination: stream }).info(
      { site: 'shop' },
      'Site shop: reconciled',
    );
    const record = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', service: 'control-plane', site: 'shop', msg: 'Site shop: reconciled' });
    expect(typeof record['time']).toBe('string');
  });

  it.each([
    [{ password: 'hunter2' }],
    [{ db: { password: 'hunter2' } }],
    [{ token: 'hunter2' }],
    [{ enroll: { joinToken: 'hunter2' } }],
    [{ req: { headers: { authorization: 'Bearer hunter2' } } }],
    [{ config: { secret: 'hunter2' } }],
  ])('redacts secrets in %j', (fields) => {
    const { lines, stream } = capture();
    createLogger({ name: 't', level: 'info', destination: stream }).info(fields, 'event');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).toContain('[REDACTED]');
  });

  it('drops records below the configured level', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ name: 't', level: 'warn', destination: stream });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['loud']);
  });
});
