import { rm } from 'node:fs/promises';
import type { PostgresCluster } from '../libs/embedded/src/postgres-cluster';

/** Stops the suite's own embedded Postgres, if jest.global-setup started one. */
export default async function globalTeardown(): Promise<void> {
  const own = (globalThis as { __svTestPg?: { cluster: PostgresCluster; dir: string } }).__svTestPg;
  if (!own) return;
  await own.cluster.stop();
  await rm(own.dir, { recursive: true, force: true });
}
