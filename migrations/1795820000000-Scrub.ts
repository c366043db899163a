import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scrub and self-heal (DESIGN.md: every part that reads a copy reports damage; it is healed from a good copy):
 * - copies.last_scrubbed_at, copies.scrub_result: when a local copy was last re-read from its device by the
 *   scrub, and what that found.
 * - integrity_findings: every damaged or missing copy found (by the scrub, a restore, a drill, a backup, the
 *   CLI) and what became of it (healed from where, its damaged bytes in quarantine, or no good copy anywhere).
 * - scrub_passes: a pass over the local copies (scheduled or started by an admin), with its progress.
 */
export class Scrub1795820000000 implements MigrationInterface {
  name = 'Scrub1795820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE copies ADD COLUMN last_scrubbed_at timestamptz,
        ADD COLUMN scrub_result varchar(16) CHECK (scrub_result IN ('ok','mismatch','missing','short','long','read_error','healed'));
      CREATE INDEX copies_scrub_due_idx ON copies (coalesce(last_scrubbed_at, verified_at), id) WHERE volume_id IS NOT NULL;

      CREATE TABLE integrity_findings (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        asset_id bigint NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        copy_id bigint REFERENCES copies(id) ON DELETE SET NULL,
        volume_role varchar(16) CHECK (volume_role IN ('primary','mirror')),
        kind varchar(16) NOT NULL CHECK (kind IN ('mismatch','missing','short','long','read_error')),
        found_by varchar(16) NOT NULL CHECK (found_by IN ('scrub','verify','restore','drill','backup','cli','heal')),
        detail text,
        found_at timestamptz NOT NULL DEFAULT now(),
        outcome varchar(16) NOT NULL DEFAULT 'open' CHECK (outcome IN ('open','healed','no_good_copy','not_confirmed')),
        healed_from varchar(16) CHECK (healed_from IN ('primary','mirror','offsite')),
        quarantine_path text,
        resolved_at timestamptz
      );
      CREATE INDEX integrity_findings_asset_idx ON integrity_findings (asset_id, found_at DESC);
      CREATE INDEX integrity_findings_open_idx ON integrity_findings (copy_id) WHERE outcome IN ('open','no_good_copy');
      CREATE INDEX integrity_findings_found_idx ON integrity_findings (found_at DESC);

      CREATE TABLE scrub_passes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        trigger varchar(16) NOT NULL CHECK (trigger IN ('schedule','manual')),
        project_id uuid REFERENCES projects(id) ON DELETE CASCADE,
        state varchar(16) NOT NULL DEFAULT 'running' CHECK (state IN ('running','completed','failed')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        files_total integer NOT NULL DEFAULT 0,
        bytes_total bigint NOT NULL DEFAULT 0,
        files_done integer NOT NULL DEFAULT 0,
        bytes_done bigint NOT NULL DEFAULT 0,
        findings integer NOT NULL DEFAULT 0,
        seconds_reading double precision NOT NULL DEFAULT 0,
        paused_reason text,
        message text,
        requested_by uuid REFERENCES users(id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX scrub_passes_one_running ON scrub_passes ((true)) WHERE state = 'running';
      CREATE INDEX scrub_passes_started_idx ON scrub_passes (started_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE scrub_passes;
      DROP TABLE integrity_findings;
      DROP INDEX copies_scrub_due_idx;
      ALTER TABLE copies DROP COLUMN last_scrubbed_at, DROP COLUMN scrub_result;
    `);
  }
}
