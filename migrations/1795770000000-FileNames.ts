import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * File names kept byte for byte, and what the ingest notices about them (hardening, items 10-11):
 * - assets.case_key: the NFC path in lower case (generated), to find names that differ only in
 *   case on one card (a case-insensitive file system, where a restore may land, takes them for
 *   one file). lower() follows the database's locale: C.UTF-8 and the like fold all of Unicode,
 *   a plain "C" database ASCII only (camera file names are ASCII).
 * - assets.name_warnings: what the ingest noticed about a file's name ({code, message}[]):
 *   a case twin, bidirectional controls, a stored name other than the card's.
 */
export class FileNames1795770000000 implements MigrationInterface {
  name = 'FileNames1795770000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE assets ADD COLUMN case_key text GENERATED ALWAYS AS (lower(relative_path_nfc)) STORED;
      ALTER TABLE assets ADD COLUMN name_warnings jsonb NOT NULL DEFAULT '[]'::jsonb;
      CREATE INDEX assets_card_case_key_idx ON assets (card_id, case_key);
      CREATE INDEX assets_card_name_warnings_idx ON assets (card_id) WHERE name_warnings <> '[]'::jsonb;
      COMMENT ON COLUMN assets.stored_path IS 'path under each volume root where the bytes are (the name as given, byte for byte; a different-content twin gets a free ~vN suffix)';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX assets_card_name_warnings_idx;
      DROP INDEX assets_card_case_key_idx;
      ALTER TABLE assets DROP COLUMN name_warnings;
      ALTER TABLE assets DROP COLUMN case_key;
    `);
  }
}
