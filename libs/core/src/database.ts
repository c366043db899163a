import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { migrateCatalog } from '@studiovault/catalog';
import { AppConfig, ConfigError } from '@studiovault/config';
import { EmbeddedDatabase, embeddedSecretKey, startEmbeddedPostgres } from '@studiovault/embedded';

export interface DatabaseHandle {
  url: string;
  embedded?: EmbeddedDatabase;
}

/** DATABASE_URL if given, else the embedded Postgres; checks it answers; migrates unless disabled. */
export async function prepareDatabase(config: AppConfig, opts: { migrate: boolean }): Promise<DatabaseHandle> {
  const log = new Logger('Database');
  let embedded: EmbeddedDatabase | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, config.database.embeddedPort);
    url = embedded.url;
  }
  const probe = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (err) {
    await embedded?.stop();
    const where = (() => {
      try {
        const u = new URL(url);
        return `${u.hostname}:${u.port || 5432}${u.pathname}`;
      } catch {
        return 'the configured database';
      }
    })();
    throw new ConfigError(`DATABASE_URL: cannot connect to ${where}: ${(err as Error).message}`);
  } finally {
    await probe.end().catch(() => undefined);
  }
  if (opts.migrate) {
    const applied = await migrateCatalog(url);
    if (applied.length) log.log(`Applied migrations: ${applied.join(', ')}`);
  }
  return { url, embedded };
}

/** The embedded default keeps its own secret key under the data folder. */
export async function withEmbeddedSecret(config: AppConfig): Promise<AppConfig> {
  if (config.security.secretKey || config.env === 'production') return config;
  return { ...config, security: { ...config.security, secretKey: await embeddedSecretKey(config.dataDir) } };
}
