import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The off-site upload engine's state:
 * - offsite_multipart: the multipart upload in progress per (target, object key), with its id,
 *   so that a restarted worker resumes it with ListParts and never re-sends a finished part.
 * - offsite_objects: every object StudioVault put on a target that is not a file's content
 *   (per-card manifests, ASC MHL files, catalog exports), with its version, hash and lock.
 * - backup_runs gains what a run reports (skipped files, a message) and the window it obeys.
 * - copies gain a claim (worker and time) so that two workers never upload the same file.
 */
export class OffsiteEngine1795720000000 implements MigrationInterface {
  name = 'OffsiteEngine1795720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE offsite_multipart (
        target_id uuid NOT NULL REFERENCES offsite_targets(id) ON DELETE CASCADE,
        object_key text NOT NULL,
        upload_id text NOT NULL,
        sha256 char(64) NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        parts_done integer NOT NULL DEFAULT 0 CHECK (parts_done >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (target_id, object_key)
      );

      CREATE TABLE offsite_objects (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        target_id uuid NOT NULL REFERENCES offsite_targets(id) ON DELETE CASCADE,
        kind varchar(16) NOT NULL CHECK (kind IN ('manifest','mhl','catalog')),
        card_id uuid REFERENCES cards(id) ON DELETE SET NULL,
        object_key text NOT NULL,
        version_id text NOT NULL,
        sha256 char(64) NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        lock_mode varchar(16) CHECK (lock_mode IN ('GOVERNANCE','COMPLIANCE')),
        retain_until timestamptz,
        lock_checked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX offsite_objects_version_key ON offsite_objects (target_id, object_key, version_id);
      CREATE INDEX offsite_objects_card_idx ON offsite_objects (card_id, target_id) WHERE card_id IS NOT NULL;

      ALTER TABLE backup_runs
        ADD COLUMN files_skipped integer NOT NULL DEFAULT 0 CHECK (files_skipped >= 0),
        ADD COLUMN message text,
        ADD COLUMN window_end timestamptz,
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      CREATE INDEX backup_runs_active_idx ON backup_runs (target_id) WHERE state IN ('queued','running','paused');

      ALTER TABLE copies
        ADD COLUMN claimed_by text,
        ADD COLUMN claimed_until timestamptz;
      -- "which files still need this target": the planner joins copies by (target_id, asset_id).
      CREATE INDEX copies_target_asset_idx ON copies (target_id, asset_id) WHERE target_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX copies_target_asset_idx;
      ALTER TABLE copies DROP COLUMN claimed_by, DROP COLUMN claimed_until;
      DROP INDEX backup_runs_active_idx;
      ALTER TABLE backup_runs DROP COLUMN files_skipped, DROP COLUMN message, DROP COLUMN window_end, DROP COLUMN updated_at;
      DROP TABLE offsite_objects;
      DROP TABLE offsite_multipart;
    `);
  }
}
