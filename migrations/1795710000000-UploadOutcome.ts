import { MigrationInterface, QueryRunner } from 'typeorm';

/** What sealing an upload decided (stored, duplicate, twin, version, history), so a repeated seal answers the same. */
export class UploadOutcome1795710000000 implements MigrationInterface {
  name = 'UploadOutcome1795710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE uploads ADD COLUMN outcome varchar(16) CHECK (outcome IN ('stored','duplicate','twin','version','history'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE uploads DROP COLUMN outcome`);
  }
}
