import 'reflect-metadata';
import { createCatalogDataSource, migrateCatalog } from '@studiovault/catalog';
import { ConfigError, loadConfig } from '@studiovault/config';
import { prepareDatabase } from '@studiovault/core';

/** `npm run migrate [-- show|revert]`: the schema changes only through migrations. */
async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'run';
  const config = loadConfig();
  const db = await prepareDatabase(config, { migrate: false });
  try {
    if (cmd === 'run') {
      const applied = await migrateCatalog(db.url);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the schema is up to date\n');
    } else if (cmd === 'show' || cmd === 'revert') {
      const ds = createCatalogDataSource(db.url);
      await ds.initialize();
      try {
        if (cmd === 'show') process.stdout.write((await ds.showMigrations()) ? 'pending migrations exist\n' : 'the schema is up to date\n');
        else await ds.undoLastMigration({ transaction: 'each' });
      } finally {
        await ds.destroy();
      }
    } else {
      throw new ConfigError(`unknown command "${cmd}" (run, show, revert)`);
    }
  } finally {
    await db.embedded?.stop();
  }
}
main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
