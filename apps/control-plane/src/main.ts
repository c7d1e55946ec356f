import { ConfigError, createLogger } from '@pressluft/platform';
import { createControlPlane } from './app.js';
import { loadControlPlaneConfig, type ControlPlaneConfig } from './config/control-plane.config.js';

async function main(): Promise<void> {
  let config: ControlPlaneConfig;
  try {
    config = loadControlPlaneConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pressluft control plane: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ name: 'control-plane', level: config.logLevel });
  const app = await createControlPlane(config, logger);
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'control plane listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`pressluft control plane: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
