import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (DESIGN.md: "someone is told, once when it starts and once when it clears"):
 * - problems: what needs a person now (open: cleared_at null), found by the problem detector.
 * - alert_channels: e-mail (SMTP) and webhook channels; the SMTP URL / webhook URL and secret are sealed.
 * - alert_deliveries: the outbox, retried with backoff; a channel shows its last error.
 * - offsite_targets: removable drives (identity marker, last seen).
 */
export class Alerts1795810000000 implements MigrationInterface {
  name = 'Alerts1795810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE problems (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key text NOT NULL,
        kind varchar(32) NOT NULL,
        severity varchar(16) NOT NULL,
        title text NOT NULL,
        subject jsonb NOT NULL DEFAULT '{}',
        details jsonb NOT NULL DEFAULT '{}',
        link text,
        started_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        cleared_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX problems_open_key ON problems (key) WHERE cleared_at IS NULL`);
    await q.query(`CREATE INDEX problems_started ON problems (started_at DESC)`);
    await q.query(`
      CREATE TABLE alert_channels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(64) NOT NULL,
        kind varchar(16) NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        secrets_encrypted bytea NOT NULL,
        digest boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        last_sent_at timestamptz,
        last_error text,
        last_error_at timestamptz,
        last_digest_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX alert_channels_name ON alert_channels (lower(name))`);
    await q.query(`
      CREATE TABLE alert_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel_id uuid NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
        problem_id uuid REFERENCES problems(id) ON DELETE SET NULL,
        event varchar(16) NOT NULL,
        payload jsonb NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending'`);
    await q.query(
      `ALTER TABLE offsite_targets ADD COLUMN removable boolean NOT NULL DEFAULT false, ADD COLUMN marker_uuid uuid, ADD COLUMN last_seen_at timestamptz`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE offsite_targets DROP COLUMN removable, DROP COLUMN marker_uuid, DROP COLUMN last_seen_at`);
    await q.query(`DROP TABLE alert_deliveries`);
    await q.query(`DROP TABLE alert_channels`);
    await q.query(`DROP TABLE problems`);
  }
}
