import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * tus uploads in flight: one row per file being received. The bytes live in each volume's
 * staging folder; the row keeps what survives a server restart (metadata, client hashes,
 * how far each volume got) and what the seal step decided.
 */
export class Uploads1795700000000 implements MigrationInterface {
  name = 'Uploads1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE uploads (
        id varchar(64) PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]+$'),
        card_id uuid NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
        relative_path text NOT NULL,
        relative_path_nfc text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        modified_time timestamptz,
        client_xxh64 char(16) CHECK (client_xxh64 ~ '^[0-9a-f]{16}$'),
        client_sha256 char(64) CHECK (client_sha256 ~ '^[0-9a-f]{64}$'),
        server_xxh64 char(16),
        server_sha256 char(64),
        state varchar(16) NOT NULL DEFAULT 'receiving'
          CHECK (state IN ('receiving','received','sealed','mismatch','failed','aborted')),
        mirror_state varchar(16) NOT NULL DEFAULT 'writing' CHECK (mirror_state IN ('writing','offline','full','failed')),
        asset_id bigint REFERENCES assets(id) ON DELETE SET NULL,
        error text,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX uploads_card_idx ON uploads (card_id, state);
      CREATE INDEX uploads_created_idx ON uploads (created_at) WHERE state IN ('receiving','received');
      ALTER TABLE assets ADD COLUMN stored_path text;
      COMMENT ON COLUMN assets.stored_path IS 'path under each volume root where the bytes are (NFC; a different-content twin gets a version suffix)';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE uploads; ALTER TABLE assets DROP COLUMN stored_path;`);
  }
}
