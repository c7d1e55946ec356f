import { ConfigError, createLogger } from '@pressluft/platform';
import { startControlPlane } from './app.js';
import { loadControlPlaneConfig, type ControlPlaneConfig } from './config/control-plane.config.js';
import { NATS_SERVER_USAGE, parseNatsServerArgs, writeNatsServerPki, type NatsServerPkiOptions } from './pki/nats-server.command.js';

function loadConfigOrExit(): ControlPlaneConfig {
  try {
    return loadControlPlaneConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pressluft control plane: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** `main.js pki nats-server --out DIR ...`: the NATS server's TLS files from our CA, then exit. */
async function pkiCommand(args: readonly string[]): Promise<void> {
  if (args[0] !== 'nats-server') {
    process.stderr.write(`${NATS_SERVER_USAGE}\n`);
    process.exit(2);
  }
  let options: NatsServerPkiOptions;
  try {
    options = parseNatsServerArgs(args.slice(1));
  } catch (error) {
    process.stderr.write(`pressluft control plane: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const written = await writeNatsServerPki(loadConfigOrExit(), options, new Date());
  process.stdout.write(`${written.join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'pki') return pkiCommand(args.slice(1));
  if (args.length > 0) {
    process.stderr.write(`pressluft control plane: unknown command ${args[0]}\n${NATS_SERVER_USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit();
  await startControlPlane(config, createLogger({ name: 'control-plane', level: config.logLevel }));
}

main().catch((error: unknown) => {
  process.stderr.write(`pressluft control plane: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
