import { Harness } from '@pressluft/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ControlPlaneProcesses, EngineScenario } from '@pressluft/e2e-harness';

export interface ProcessHarness {
  /** The file's own PostgreSQL and NATS (tests restart them). */
  harness(): Harness;
  /** A fresh scenario (database, replicas, agents); cleaned up after each test. */
  scenario(label: string): Promise<EngineScenario>;
}

/**
 * Registers the lifecycle every process-level engine test file shares: its own PostgreSQL and
 * NATS and one compiled control plane (in beforeAll), a scenario per test (cleaned up after it),
 * and everything stopped by PID at the end.
 */
export function useProcessHarness(): ProcessHarness {
  let harness: Harness | undefined;
  let processes: ControlPlaneProcesses | undefined;
  let current: EngineScenario | undefined;

  beforeAll(async () => {
    const [h, p] = await Promise.allSettled([Harness.start({ postgres: true, nats: true }), ControlPlaneProcesses.build()]);
    if (h.status === 'fulfilled') harness = h.value;
    if (p.status === 'fulfilled') processes = p.value;
    if (h.status === 'rejected') throw h.reason;
    if (p.status === 'rejected') throw p.reason;
  }, 120_000);

  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });

  afterAll(async () => {
    await processes?.stop();
    await harness?.stop();
  });

  return {
    harness: () => {
      if (!harness) throw new Error('the harness did not start');
      return harness;
    },
    scenario: async (label) => {
      if (!harness?.postgres || !harness.nats || !processes) throw new Error('harness services missing');
      current = await EngineScenario.create(processes, harness.postgres.url, harness.nats.url, label);
      return current;
    },
  };
}
