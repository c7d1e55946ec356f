import { describe, expect, it } from 'vitest';
import { parseNatsServerArgs } from './nats-server.command.js';

describe('pki nats-server arguments', () => {
  it('always names localhost and 127.0.0.1, plus what is asked for', () => {
    expect(parseNatsServerArgs(['--out', '/srv/nats', '--dns', 'NATS.example.test', '--ip', '10.0.0.5', '--dns', 'localhost'])).toEqual({
      out: '/srv/nats',
      dnsNames: ['localhost', 'nats.example.test'],
      ipAddresses: ['127.0.0.1', '10.0.0.5'],
    });
  });

  it.each([[[]], [['--out']], [['--out', 'relative']], [['--out', '/x', '--ip', 'nope']], [['--out', '/x', '--dns', 'a b']], [['--out', '/x', '--force', 'y']], [['--out', '--dns', 'x']]])(
    'refuses %j with the usage',
    (args) => {
      expect(() => parseNatsServerArgs(args)).toThrow(/usage: main\.js pki nats-server --out DIR/);
    },
  );
});
