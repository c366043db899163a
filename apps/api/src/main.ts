import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConsoleLogger, Logger, LogLevel } from '@nestjs/common';
import { join } from 'node:path';
import { SetupCodeService, UsersService } from '@studiovault/auth';
import { ConfigError, loadConfig } from '@studiovault/config';
import { hardenServerProcess, prepareDatabase, resolveLogFormat, withEmbeddedSecret } from '@studiovault/core';
import { EmbeddedPostgresError } from '@studiovault/embedded';
import { JobQueue, JobRunner } from '@studiovault/jobs';
import { VolumesService } from '@studiovault/volumes';
import { createApiApp } from './application';

/** Until pino takes over, Nest's console logger prints only what LOG_LEVEL asks for, in the LOG_FORMAT pino will use. */
function quietBootLogs(level: string, format: 'json' | 'pretty'): void {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 }[level] ?? 3;
  Logger.overrideLogger(
    new ConsoleLogger({
      logLevels: order.slice(0, upTo + 1),
      json: format === 'json',
      colors: format === 'pretty' && process.stdout.isTTY,
    }),
  );
}

/** The portal's build, next to the compiled server (dist/apps/web/public). */
function defaultWebDir(): string | undefined {
  const dir = join(__dirname, '..', '..', 'web', 'public');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

/**
 * `npm start`: API, worker and portal in one process on one port. Without DATABASE_URL an
 * embedded Postgres runs under the data folder.
 */
async function main(): Promise<void> {
  const rootWarning = hardenServerProcess(); // first: every file made from here on has no world bits
  const config = await withEmbeddedSecret(loadConfig());
  quietBootLogs(config.logLevel, resolveLogFormat(config.logFormat));
  const db = await prepareDatabase(config, { migrate: config.database.runMigrations });
  const webDir = config.webDir ?? defaultWebDir();
  const app = await createApiApp({ config, databaseUrl: db.url, webDir });
  await app.get(UsersService).ensureHeadlessAdmin();
  await app.get(VolumesService).registerConfigured();
  const queue = app.get(JobQueue);
  if (config.workerInProcess) await app.get(JobRunner).start();
  else await queue.start('producer');
  await app.listen(config.port, config.host);

  if (rootWarning) new Logger('StudioVault').warn(rootWarning);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  process.stdout.write(
    `\nStudioVault is running: http://${shown}:${config.port}/  (PORT=${config.port}; health: /api/health)\n` +
      `  database: ${db.embedded ? `embedded Postgres in ${db.embedded.cluster.dataDir}` : 'DATABASE_URL'}\n` +
      `  portal:   ${webDir ? webDir : 'not built (npm run build:web)'}\n` +
      `  worker:   ${config.workerInProcess ? 'in this process' : 'separate (apps/worker)'}\n\n`,
  );
  const setupCode = await app.get(SetupCodeService).prepare();
  if (setupCode) {
    process.stdout.write(
      `First-run setup: open the portal and enter this one-time setup code\n\n    ${setupCode}\n\n` +
        `  (also in ${app.get(SetupCodeService).file}; it is shown again at every start until setup is done)\n\n`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight requests and jobs\n`);
    const force = setTimeout(() => process.exit(1), 60_000);
    force.unref();
    try {
      await queue.stop(30_000); // unfinished jobs expire and are retried by another worker
      await app.close(); // stops accepting; in-flight requests finish
      await db.embedded?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // One line that names the cause; a stack only for what is not a known start-up failure.
  const known = err instanceof ConfigError || err instanceof EmbeddedPostgresError;
  const text = known
    ? (err as Error).message
    : err instanceof Error
      ? (err.stack ?? err.message)
      : `an unexpected failure (${String(err)})`;
  process.stderr.write(`StudioVault cannot start: ${text}\n`);
  process.exit(1);
});
