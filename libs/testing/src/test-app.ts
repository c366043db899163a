import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { migrateCatalog } from '@studiovault/catalog';
import { AppConfig, loadConfig } from '@studiovault/config';
import { createTestDatabase, TestDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  db: TestDatabase;
  config: AppConfig;
  dataDir: string;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * The real API against a real, migrated Postgres database of its own, with volumes in a
 * temporary folder. `createApp` is passed in so this library does not depend on apps/api.
 */
export async function startTestApp(
  createApp: (opts: { config: AppConfig; databaseUrl: string }) => Promise<NestExpressApplication>,
  env: Record<string, string> = {},
  /** Reuse a database (a restart test); otherwise a fresh one. */
  existingDbUrl?: string,
): Promise<TestApp> {
  const db: TestDatabase = existingDbUrl
    ? { name: new URL(existingDbUrl).pathname.slice(1), url: existingDbUrl, drop: async () => undefined }
    : await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'sv-test-'));
  const config = loadConfig({ NODE_ENV: 'test', STUDIOVAULT_DATA_DIR: dataDir, DATABASE_URL: db.url, ...env });
  await migrateCatalog(db.url);
  const app = await createApp({ config, databaseUrl: db.url });
  await app.init();
  return {
    app,
    db,
    config,
    dataDir,
    http: () => request(app.getHttpServer()),
    async close() {
      await app.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
