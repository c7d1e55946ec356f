import type { StartedTestContainer } from 'testcontainers';

/**
 * testcontainers is used when a container runtime answers; our machines have none, so the
 * harness then starts the Debian binaries itself (docs/adr/0003). PRESSLUFT_HARNESS=binaries
 * forces the binary path, =containers refuses to fall back.
 */
export async function containerRuntimeAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const mode = env['PRESSLUFT_HARNESS'] ?? 'auto';
  if (mode === 'binaries') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch (error) {
    if (mode === 'containers') throw new Error(`PRESSLUFT_HARNESS=containers but no container runtime answers: ${String(error)}`);
    return false;
  }
}

export interface ContainerEndpoint {
  readonly port: number;
  readonly container: StartedTestContainer;
}

/** PostgreSQL in a container, scram with the superuser's `password`, the same coordinates as the binary path. */
export async function startPostgresContainer(password: string): Promise<ContainerEndpoint> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_PASSWORD: password, POSTGRES_INITDB_ARGS: '--auth=scram-sha-256' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return { port: container.getMappedPort(5432), container };
}

/** nats-server with JetStream in a container. */
export async function startNatsContainer(): Promise<ContainerEndpoint> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('nats:2.9')
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return { port: container.getMappedPort(4222), container };
}
