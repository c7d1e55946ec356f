import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { consoleTarget, CONSOLE_SECURITY_HEADERS } from './console-paths.js';

/** The built console beside the compiled control plane: dist/apps/console/browser. */
export function defaultConsoleDir(): string {
  return join(__dirname, '..', '..', '..', 'console', 'browser');
}

/**
 * Serves the Angular console at / from `dir` (GET and HEAD only; the API's paths are never
 * touched). Without a build there, the console's paths answer 404 with a hint, and the API works.
 */
export function consoleMiddleware(dir: string): RequestHandler {
  const files = express.static(dir, { index: false, fallthrough: true, etag: false, redirect: false, dotfiles: 'deny' });
  const index = join(dir, 'index.html');
  return (req: Request, res: Response, next: NextFunction) => {
    const target = req.method === 'GET' || req.method === 'HEAD' ? consoleTarget(req.path) : undefined;
    if (!target) {
      next();
      return;
    }
    for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) res.setHeader(name, value);
    if (target.kind === 'asset') {
      res.setHeader('Cache-Control', target.cacheable ? 'public, max-age=31536000, immutable' : 'no-cache');
      files(req, res, next);
      return;
    }
    if (!existsSync(index)) {
      // A Status like every other 404 of this server, with the hint.
      res.status(404).json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the console is not built: run tools/dev build (the API is at /apis/pressluft.io/v1)', reason: 'NotFound', code: 404 });
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
}
