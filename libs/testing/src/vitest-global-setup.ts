import type { TestProject } from 'vitest/node';
import { Harness } from './harness.js';
import { describeShared } from './shared-services.js';

/** Starts the run-wide services once before the integration tests and stops them after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const harness = await Harness.start({ postgres: true, nats: true, mariadb: true, nginx: true, phpFpm: true, redis: true });
  project.provide('services', describeShared(harness));
  return () => harness.stop();
}
