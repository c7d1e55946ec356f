import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from '@pressluft/platform';
import express, { type NextFunction, type Request, type Response } from 'express';
import { answerClientErrors } from './api/client-error.js';
import { AppModule } from './app.module.js';
import { AuditMiddleware } from './audit/audit.middleware.js';
import { TokenService } from './auth/token.service.js';
import { DefaultBackupStore } from './backup-stores/default-backup-store.js';
import type { ControlPlaneConfig } from './config/control-plane.config.js';
import { consoleMiddleware, defaultConsoleDir } from './console/console-static.js';
import { NestPinoLogger, requestLog } from './infra/request-log.js';
import { createDataSource, migrate } from './persistence/data-source.js';
import { loadOrCreateServingPki } from './pki/pki.store.js';

export interface ControlPlane {
  readonly app: NestExpressApplication;
  /** Plain HTTP base URL, e.g. http://127.0.0.1:8080 */
  readonly httpUrl: string;
  /** The TLS listener and the CA that signed its certificate, when enabled. */
  readonly https?: { readonly url: string; readonly caCert: string };
  close(): Promise<void>;
}

/**
 * Boots the control plane: schema migrations, the bootstrap admin token, the Nest application,
 * then the HTTP listener and the TLS listener (the same app, a certificate from our own CA).
 */
export async function startControlPlane(config: ControlPlaneConfig, logger: PinoLogger): Promise<ControlPlane> {
  const dataSource = createDataSource(config.databaseUrl, { connectTimeoutMs: config.readyTimeoutMs });
  await dataSource.initialize();
  await migrate(dataSource);

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, dataSource), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
  });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  // No ETags (Express hashes every body for one): clients follow resourceVersion, as with Kubernetes.
  app.set('etag', false);
  app.use(requestLog(logger));
  // Audit first, so a request refused while its body is read (413) is audited too.
  const audit = app.get(AuditMiddleware);
  app.use((req: Request, res: Response, next: NextFunction) => audit.use(req, res, next));
  // Bodies are parsed by the handlers (JSON, YAML, patches) from raw bytes, with one size limit.
  app.use(express.raw({ type: () => true, limit: config.maxBodyBytes }));
  // The console at / (the API's paths pass through to Nest).
  app.use(consoleMiddleware(config.consoleDir ?? defaultConsoleDir()));

  if (config.adminTokenFile) {
    await app.get(TokenService).ensure(readFileSync(config.adminTokenFile, 'utf8').trim(), 'admin', 'admin');
  }
  if (config.defaultBackupRepository) await app.get(DefaultBackupStore).ensure(config.defaultBackupRepository);

  answerClientErrors(app.getHttpServer());
  await app.listen(config.http.port, config.http.host);
  const httpAddress = app.getHttpServer().address() as { port: number };
  const httpUrl = `http://${config.http.host}:${httpAddress.port}`;

  let https: ControlPlane['https'];
  let tlsServer: Server | undefined;
  if (config.https) {
    const pki = await loadOrCreateServingPki(config.https.pkiDir, new Date());
    const server = createServer({ cert: pki.serving.cert, key: pki.serving.key }, app.getHttpAdapter().getInstance());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.https?.port, config.http.host, () => resolve());
    });
    answerClientErrors(server);
    tlsServer = server;
    const port = (server.address() as { port: number }).port;
    https = { url: `https://${config.http.host}:${port}`, caCert: pki.ca.cert };
  }
  logger.info({ url: httpUrl, tls: https?.url }, 'control plane listening');

  return {
    app,
    httpUrl,
    ...(https ? { https } : {}),
    close: async () => {
      if (tlsServer) {
        tlsServer.closeAllConnections();
        await new Promise<void>((resolve) => tlsServer?.close(() => resolve()));
      }
      app.getHttpServer().closeAllConnections?.();
      await app.close();
    },
  };
}
