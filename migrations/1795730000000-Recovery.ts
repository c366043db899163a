import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Restore, drills, retention and expiry (issue 5):
 * - restores: a restore to a folder on the NAS, with its progress and summary.
 * - restore_drills gains what a drill reports (errors, duration, time to restore, verdict).
 * - assets.drilled_at: when a drill last restored the file with zero errors.
 * - offsite_targets.maintenance_credentials_encrypted: the separate key expiry deletes with.
 * - projects.legal_hold_reason; expiry_previews: what the admin saw before confirming.
 */
export class Recovery1795730000000 implements MigrationInterface {
  name = 'Recovery1795730000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE restores (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        card_id uuid REFERENCES cards(id) ON DELETE SET NULL,
        path_glob text,
        source varchar(16) NOT NULL DEFAULT 'auto' CHECK (source IN ('auto','primary','mirror','offsite')),
        at timestamptz,
        destination text NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','completed','failed')),
        files integer NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        done_files integer NOT NULL DEFAULT 0,
        done_bytes bigint NOT NULL DEFAULT 0,
        restored integer NOT NULL DEFAULT 0,
        verified integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        message text,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX restores_created_idx ON restores (created_at DESC);

      ALTER TABLE restore_drills
        ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        ADD COLUMN restore_seconds double precision,
        ADD COLUMN message text,
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

      ALTER TABLE assets ADD COLUMN drilled_at timestamptz;
      ALTER TABLE projects ADD COLUMN legal_hold_reason text;
      ALTER TABLE offsite_targets ADD COLUMN maintenance_credentials_encrypted bytea;

      CREATE TABLE expiry_previews (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        items jsonb NOT NULL,
        local_files integer NOT NULL,
        local_bytes bigint NOT NULL,
        offsite_versions integer NOT NULL,
        offsite_bytes bigint NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'previewed' CHECK (state IN ('previewed','confirmed','done','failed')),
        result jsonb,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        confirmed_at timestamptz
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE expiry_previews;
      ALTER TABLE offsite_targets DROP COLUMN maintenance_credentials_encrypted;
      ALTER TABLE projects DROP COLUMN legal_hold_reason;
      ALTER TABLE assets DROP COLUMN drilled_at;
      ALTER TABLE restore_drills DROP COLUMN errors, DROP COLUMN restore_seconds, DROP COLUMN message, DROP COLUMN updated_at;
      DROP TABLE restores;
    `);
  }
}
