import { createLogger } from '@pressluft/platform';
import { Harness } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../app.js';
import { loadControlPlaneConfig } from '../config/control-plane.config.js';

describe('control plane /healthz and /readyz', () => {
  // Its own PostgreSQL: this test stops it, which the run-wide instance must not suffer.
  let harness: Harness;
  let plane: ControlPlane;

  beforeAll(async () => {
    harness = await Harness.start({ postgres: true });
    const config = loadControlPlaneConfig({
      PRESSLUFT_HTTP_PORT: '0',
      PRESSLUFT_HTTPS_PORT: 'off',
      PRESSLUFT_GRPC_PORT: 'off',
      PRESSLUFT_DATABASE_URL: harness.postgres?.url,
      PRESSLUFT_NATS_URL: inject('services').nats.url,
      PRESSLUFT_READY_TIMEOUT_MS: '1000',
      // The run-wide NATS is shared: only engine tests may consume its event stream.
      PRESSLUFT_ENGINE: 'false',
    });
    plane = await startControlPlane(config, createLogger({ name: 'control-plane', level: 'silent' }));
  });

  afterAll(async () => {
    await plane.close();
    await harness.stop();
  });

  async function get(path: string): Promise<{ status: number; body: { ready?: boolean; checks?: Record<string, { ok: boolean; error?: string }> } }> {
    const response = await fetch(`${plane.httpUrl}${path}`);
    return { status: response.status, body: (await response.json()) as never };
  }

  async function eventually(path: string, status: number): Promise<Awaited<ReturnType<typeof get>>> {
    let last = await get(path);
    for (let i = 0; i < 100 && last.status !== status; i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = await get(path);
    }
    return last;
  }

  it('is ready while PostgreSQL and JetStream answer, without a token', async () => {
    const ready = await eventually('/readyz', 200);
    expect(ready).toEqual({ status: 200, body: { ready: true, checks: { postgres: { ok: true }, jetstream: { ok: true } } } });
  });

  it('answers 503 naming PostgreSQL when it stops, stays live, and recovers when it is back', async () => {
    await harness.postgres?.stop();
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.ready).toBe(false);
    expect(down.body.checks?.['postgres']?.ok).toBe(false);
    expect(down.body.checks?.['jetstream']).toEqual({ ok: true });
    expect((await get('/healthz')).status).toBe(200);

    await harness.postgres?.start();
    expect((await eventually('/readyz', 200)).status).toBe(200);
  });
});
