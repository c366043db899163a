import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '@studiovault/migrations';
import { CATALOG_ENTITIES } from './entities';

export function catalogDataSourceOptions(url: string, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: CATALOG_ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: 10, application_name: 'studiovault' },
    ...extra,
  } as DataSourceOptions;
}

export function createCatalogDataSource(url: string): DataSource {
  return new DataSource(catalogDataSourceOptions(url));
}

/** Applies pending migrations; returns the names applied. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

/**
 * Runs pending migrations under a Postgres advisory lock, so an API and a worker starting
 * together never migrate at once. Returns the names applied.
 */
export async function migrateCatalog(url: string): Promise<string[]> {
  const ds = createCatalogDataSource(url);
  await ds.initialize();
  const runner = ds.createQueryRunner();
  try {
    await runner.connect();
    await runner.query(`SELECT pg_advisory_lock(hashtext('studiovault:migrations'))`);
    try {
      return await runMigrations(ds);
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtext('studiovault:migrations'))`);
    }
  } finally {
    await runner.release();
    await ds.destroy();
  }
}
