import type { NodeServiceHealth, SiteHealth } from '@pressluft/proto';
import { describe, expect, it } from 'vitest';
import { transitionKey } from './health-loop.js';

const serving: SiteHealth = { name: 'blog', state: 'SERVING', reason: '', message: 'GET / answered 200', httpStatus: 200, probeSeconds: 0.05, processUp: true, restarts: 0, crashLooping: false, lastExit: '' };
const nginx: NodeServiceHealth = { name: 'nginx', up: true, message: '', restarts: 0, crashLooping: false };

describe('transitionKey: what makes a health snapshot news', () => {
  const same = (a: SiteHealth, b: SiteHealth, services: NodeServiceHealth[] = [nginx]) => transitionKey([a], [nginx]) === transitionKey([b], services);
  it.each<[string, SiteHealth, NodeServiceHealth[], boolean]>([
    ['a new latency only', { ...serving, probeSeconds: 0.9 }, [nginx], true],
    ['serving -> not serving', { ...serving, state: 'NOT_SERVING', reason: 'HttpStatus', httpStatus: 500, message: 'GET / answered 500' }, [nginx], false],
    ['a restart', { ...serving, restarts: 1, lastExit: 'killed by SIGKILL' }, [nginx], false],
    ['a crash loop', { ...serving, crashLooping: true }, [nginx], false],
    ['the master went down', { ...serving, processUp: false }, [nginx], false],
    ['nginx went down', serving, [{ ...nginx, up: false, message: 'connect ECONNREFUSED' }], false],
  ])('%s: unchanged %s', (_, next, services, unchanged) => {
    expect(same(serving, next, services)).toBe(unchanged);
  });
});
