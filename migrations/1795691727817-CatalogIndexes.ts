import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the catalog's hot read queries (libs/catalog/src/catalog-queries.ts), sized by
 * bench/catalog.ts on 1,000,000 assets (see bench/README.md).
 *
 * assets_without_offsite_idx serves "files without a verified off-site copy" studio-wide:
 * keyset pages ordered by id, and the count/bytes totals as an index-only scan (size is
 * INCLUDEd). Its predicate is NOT IN the off-site levels, spelled exactly as the query spells
 * it, so that a level added later counts as "not off-site" (fail-closed) and the planner can
 * still prove the query matches the index. Without it the totals were a sequential scan of
 * the whole table (p95 ~280 ms at 1M files) and the first page walked the primary key past
 * every protected file.
 *
 * assets_project_summary_idx serves the per-project protection summary (counts and bytes per
 * card and level) as an index-only scan in index order, whatever the heap layout. With only
 * assets_project_protection_idx the summary reads every heap page holding one of the
 * project's files: ~180 pages (3 ms) when a project's rows sit together, but ~4,400 pages
 * (25 ms warm, 75 ms cold) once they are scattered, which is what protection updates
 * (uploading → copied → verified → offsite → immutable → drilled, each a non-HOT UPDATE) and
 * concurrent ingests do to a real catalog. Measured at 1M files: 1.1 ms with this index.
 */
export class CatalogIndexes1795691727817 implements MigrationInterface {
  name = 'CatalogIndexes1795691727817';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX assets_without_offsite_idx ON assets (id) INCLUDE (size)
        WHERE protection NOT IN ('offsite', 'immutable', 'drilled');
      CREATE INDEX assets_project_summary_idx ON assets (project_id, card_id, protection) INCLUDE (size);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX assets_project_summary_idx, assets_without_offsite_idx;`);
  }
}
