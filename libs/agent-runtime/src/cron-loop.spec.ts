import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { describe, expect, it } from 'vitest';
import { CronLoop } from './cron-loop.js';
import { SerialQueue } from './site-queue.js';
import { ScriptedHost } from './testing/scripted-host.js';

const site = (name: string) => ({ name, id: `${name}0000`.slice(0, 8) }) as SiteConfig;

/** A run that ends when the test says so. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = () => undefined as void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A loop on a scripted host and a manual timer; `warnings` collects what it logged. */
function setup(names: string[]) {
  const host = new ScriptedHost();
  const perSite = new SerialQueue();
  const warnings: { site: string; err: string }[] = [];
  const logger = createLogger({ name: 'cron-test', level: 'silent' });
  logger.warn = ((fields: { site: string; err: string }) => warnings.push(fields));
  const timer: { task?: () => void; ms?: number; cleared: boolean } = { cleared: false };
  let sites = new Map(names.map((name) => [name, site(name)]));
  const loop = new CronLoop({
    host,
    sites: () => sites,
    perSite,
    logger,
    everyMs: 60_000,
    setInterval: (task, ms) => {
      timer.task = task;
      timer.ms = ms;
      return 'timer';
    },
    clearInterval: () => (timer.cleared = true),
  });
  return { host, perSite, warnings, timer, loop, setSites: (next: string[]) => (sites = new Map(next.map((name) => [name, site(name)]))) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CronLoop: WP-Cron on the node’s schedule', () => {
  it('ticks on its interval and runs every site once per tick, side by side', async () => {
    const { host, timer, loop } = setup(['a', 'b', 'c']);
    const gates = new Map(['a', 'b', 'c'].map((name) => [name, gate()]));
    host.cron = (name) => gates.get(name)?.promise ?? Promise.resolve();
    loop.start();
    expect(timer.ms).toBe(60_000);
    expect(host.cronRuns).toEqual([]); // nothing before the first tick
    timer.task?.();
    await settle();
    // all three started before any ended: one slow site holds up no other
    expect(host.cronRuns).toEqual(['a', 'b', 'c']);
    for (const g of gates.values()) g.open();
    await loop.stop();
    expect(timer.cleared).toBe(true);
  });

  it.each<[string, { busy: string[]; running: string[] }, string[]]>([
    ['every idle site', { busy: [], running: [] }, ['a', 'b']],
    ['not a site a command works on', { busy: ['a'], running: [] }, ['b']],
    ['not a site whose last run is still going', { busy: [], running: ['b'] }, ['a']],
    ['none when all are busy', { busy: ['a'], running: ['b'] }, []],
  ])('a tick starts %s', async (_, { busy, running }, started) => {
    const { host, perSite, loop } = setup(['a', 'b']);
    const held = gate();
    for (const name of busy) void perSite.run(name, () => held.promise);
    const slow = gate();
    host.cron = (name) => (running.includes(name) ? slow.promise : Promise.resolve());
    if (running.length > 0) loop.tick();
    await settle();
    const before = host.cronRuns.length;
    expect(loop.tick()).toEqual(started);
    await settle();
    expect(host.cronRuns.slice(before)).toEqual(started);
    held.open();
    slow.open();
    await loop.stop();
  });

  it('never runs one site twice at once, and runs it again on the tick after its run ended', async () => {
    const { host, loop } = setup(['a']);
    const first = gate();
    host.cron = () => first.promise;
    expect(loop.tick()).toEqual(['a']);
    expect(loop.tick()).toEqual([]);
    first.open();
    await settle();
    host.cron = () => Promise.resolve();
    expect(loop.tick()).toEqual(['a']);
    await loop.stop();
    expect(host.cronRuns).toEqual(['a', 'a']);
  });

  it('never holds the site: a command (or a supervision) for it goes on while its run does', async () => {
    const { host, perSite, loop } = setup(['a']);
    const run = gate();
    host.cron = () => run.promise;
    loop.tick();
    const order: string[] = [];
    await perSite.run('a', () => Promise.resolve(order.push('command')));
    expect(order).toEqual(['command']);
    // The run is still going: the next tick does not start a second one.
    expect(loop.tick()).toEqual([]);
    run.open();
    await loop.stop();
  });

  it('logs a failure with the site and goes on with the others and the next tick', async () => {
    const { host, warnings, loop } = setup(['a', 'b']);
    host.cron = (name) => (name === 'a' ? Promise.reject(new Error('wp cron event run --due-now exited with code 1: Error: boom')) : Promise.resolve());
    loop.tick();
    await settle();
    expect(warnings).toEqual([{ site: 'a', err: 'wp cron event run --due-now exited with code 1: Error: boom' }]);
    expect(loop.tick()).toEqual(['a', 'b']);
    await loop.stop();
    expect(host.cronRuns).toEqual(['a', 'b', 'a', 'b']);
  });

  it('follows the sites as they change (a removed site is not run)', async () => {
    const { host, loop, setSites } = setup(['a', 'b']);
    loop.tick();
    setSites(['b', 'c']);
    await settle();
    loop.tick();
    await loop.stop();
    expect(host.cronRuns).toEqual(['a', 'b', 'b', 'c']);
  });

  it('starts nothing once stopped, and stop waits for the runs going', async () => {
    const { host, loop } = setup(['a']);
    const run = gate();
    let ended = false;
    host.cron = () => run.promise.then(() => void (ended = true));
    loop.tick();
    const stopped = loop.stop();
    expect(loop.tick()).toEqual([]);
    run.open();
    await stopped;
    expect(ended).toBe(true);
    expect(host.cronRuns).toEqual(['a']);
  });
});
