import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@studiovault/config';
import { hardenServerProcess, prepareDatabase, withEmbeddedSecret } from '@studiovault/core';
import { JobQueue, JobRunner } from '@studiovault/jobs';
import { WorkerModule } from './worker.module';

/** A worker process: runs jobs from the queue in Postgres. Start more for more throughput. */
async function main(): Promise<void> {
  const rootWarning = hardenServerProcess(); // first: every file made from here on has no world bits
  const config = await withEmbeddedSecret(loadConfig());
  if (!config.database.url)
    throw new ConfigError('DATABASE_URL is required for a separate worker (the embedded default runs the worker inside `npm start`)');
  const db = await prepareDatabase(config, { migrate: config.database.runMigrations });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ config, databaseUrl: db.url }), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  await app.get(JobRunner).start();
  if (rootWarning) app.get(Logger).warn(rootWarning, 'StudioVault');
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 60_000);
    force.unref();
    await app.get(JobQueue).stop(30_000);
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err: unknown) => {
  process.stderr.write(
    `StudioVault worker cannot start: ${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
