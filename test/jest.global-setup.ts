import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PostgresCluster } from '../libs/embedded/src/postgres-cluster';

/**
 * The Postgres the tests use: STUDIOVAULT_TEST_PG_URL if set, else the machine's on
 * 127.0.0.1:5432 when one answers there, else an embedded Postgres of the suite's own (a fresh
 * machine needs no database server). Every test file makes its own database in it.
 */
const MACHINE_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  if (process.env.STUDIOVAULT_TEST_PG_URL) return;
  if (process.env.STUDIOVAULT_TEST_EMBEDDED_PG !== '1' && (await answers(MACHINE_PG))) {
    process.env.STUDIOVAULT_TEST_PG_URL = MACHINE_PG;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'sv-test-pg-'));
  await chmod(dir, 0o755); // as root, Postgres runs as user postgres and must enter it
  const cluster = new PostgresCluster({
    databaseDir: join(dir, 'cluster'),
    port: await freePort(),
    user: 'postgres',
    // Tests make and drop a database per file; the data need no durability.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  await cluster.start();
  process.env.STUDIOVAULT_TEST_PG_URL = `postgres://postgres@127.0.0.1:${cluster.port}/postgres`;
  const why = process.env.STUDIOVAULT_TEST_EMBEDDED_PG === '1' ? 'STUDIOVAULT_TEST_EMBEDDED_PG=1' : 'no Postgres on 127.0.0.1:5432';
  process.stdout.write(`\n${why}: the tests use their own embedded Postgres on port ${cluster.port}\n`);
  (globalThis as { __svTestPg?: { cluster: PostgresCluster; dir: string } }).__svTestPg = { cluster, dir };
}
