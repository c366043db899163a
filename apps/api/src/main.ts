import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger, LogLevel } from '@nestjs/common';
import { join } from 'node:path';
import { SetupCodeService, UsersService } from '@studiovault/auth';
import { ConfigError, loadConfig } from '@studiovault/config';
import { prepareDatabase, withEmbeddedSecret } from '@studiovault/core';
import { JobQueue, JobRunner } from '@studiovault/jobs';
import { VolumesService } from '@studiovault/volumes';
import { createApiApp } from './application';

/** Until pino takes over, Nest's console logger prints only what LOG_LEVEL asks for. */
function quietBootLogs(level: string): void {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 }[level] ?? 3;
  Logger.overrideLogger(order.slice(0, upTo + 1));
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
  const config = await withEmbeddedSecret(loadConfig());
  quietBootLogs(config.logLevel);
  const db = await prepareDatabase(config, { migrate: config.database.runMigrations });
  const webDir = config.webDir ?? defaultWebDir();
  const app = await createApiApp({ config, databaseUrl: db.url, webDir });
  await app.get(UsersService).ensureHeadlessAdmin();
  await app.get(VolumesService).registerConfigured();
  const queue = app.get(JobQueue);
  if (config.workerInProcess) await app.get(JobRunner).start();
  else await queue.start('producer');
  await app.listen(config.port, config.host);

  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  process.stdout.write(
    `\nStudioVault is running: http://${shown}:${config.port}/  (PORT=${config.port}; health: /api/health)\n` +
      `  database: ${db.embedded ? `embedded Postgres under ${config.dataDir}` : 'DATABASE_URL'}\n` +
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
      await queue.stop(30_000, { settle: false }); // unfinished jobs expire and are retried by another worker
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
  if (err instanceof ConfigError) {
    process.stderr.write(`StudioVault cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(`StudioVault cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
