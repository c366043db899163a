import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import { randomUUID } from 'node:crypto';
import { Logger } from 'nestjs-pino';
import { CoreOptions } from '@studiovault/core';
import { AppModule } from './app.module';
import { validationPipe } from './controllers/pipes';
import { rejectNulBytes } from './ops/nul-bytes.middleware';
import { securityHeaders } from './ops/security-headers';
import { serveWeb } from './web';

function trustProxySetting(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** X-Request-Id from the client when it is sane, else a new UUID; logs and error bodies carry it. */
function assignRequestId(req: Request & { id?: string }, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  req.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}

/** Configures an API application the same way for `main`, the OpenAPI generator and tests. */
export function configureApp(app: NestExpressApplication, opts: { bodyLimit: string; trustProxy?: string; webDir?: string }): void {
  app.set('trust proxy', trustProxySetting(opts.trustProxy ?? 'loopback'));
  app.disable('x-powered-by');
  app.use(assignRequestId); // before the body parsers, so their errors carry the id too
  for (const handler of securityHeaders(opts.webDir)) app.use(handler);
  app.use(json({ limit: opts.bodyLimit }));
  app.use(urlencoded({ extended: false, limit: opts.bodyLimit }));
  app.use(rejectNulBytes);
  app.use(cookieParser());
  app.setGlobalPrefix('api', { exclude: ['metrics', 'files', 'files/{*rest}'] });
  app.useGlobalPipes(validationPipe);
  if (opts.webDir) serveWeb(app, opts.webDir);
}

export async function createApiApp(options: CoreOptions & { webDir?: string }): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  configureApp(app, { bodyLimit: options.config.bodyLimit, trustProxy: options.config.trustProxy, webDir: options.webDir });
  return app;
}

export { validationPipe };
export type { INestApplication };
