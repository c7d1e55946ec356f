import { ConfigError, createLogger } from '@pressluft/platform';
import { startControlPlane } from './app.js';
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
  await startControlPlane(config, createLogger({ name: 'control-plane', level: config.logLevel }));
}

main().catch((error: unknown) => {
  process.stderr.write(`pressluft control plane: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
