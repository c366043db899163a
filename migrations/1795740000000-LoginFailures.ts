import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed sign-ins, counted in the catalog so that every API replica counts together.
 * One row per key: `pair:<address>|<e-mail>` (growing delays for one address on one
 * account) and `address:<address>` (the cap on one address across every account).
 */
export class LoginFailures1795740000000 implements MigrationInterface {
  name = 'LoginFailures1795740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_failures (
        key varchar(400) PRIMARY KEY,
        failures integer NOT NULL,
        window_started_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL,
        blocked_until timestamptz
      );
      CREATE INDEX login_failures_last_failed_idx ON login_failures (last_failed_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE login_failures`);
  }
}
