import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from '@pressluft/platform';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { ControlPlaneConfig } from './config/control-plane.config.js';

/** Builds the control plane's HTTP application; `listen` is left to the caller (main or a test). */
export async function createControlPlane(config: ControlPlaneConfig, logger: PinoLogger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  return app;
}
