import { Client } from 'pg';
import { loadConfig } from '@studiovault/config';

/** Container health check of the worker: exits 0 when its database answers. */
async function main(): Promise<void> {
  const config = loadConfig();
  const client = new Client({ connectionString: config.database.url, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
}
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
