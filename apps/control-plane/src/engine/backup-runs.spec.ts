import { describe, expect, it } from 'vitest';
import { WaitingRuns } from './backup-runs.js';

describe('WaitingRuns', () => {
  it('names the runs waiting for a site, follows a run to another site and forgets a run that stopped waiting', () => {
    const waiting = new WaitingRuns();
    waiting.set('b1', 'shop');
    waiting.set('b2', 'shop');
    waiting.set('r1', 'blog');
    expect(waiting.of('shop').sort()).toEqual(['b1', 'b2']);
    waiting.set('b2', 'blog');
    expect(waiting.of('shop')).toEqual(['b1']);
    expect(waiting.of('blog').sort()).toEqual(['b2', 'r1']);
    waiting.set('b1', undefined);
    expect(waiting.of('shop')).toEqual([]);
    waiting.set('b1', undefined);
    expect(waiting.of('nowhere')).toEqual([]);
  });
});
