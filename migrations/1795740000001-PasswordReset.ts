import { MigrationInterface, QueryRunner } from 'typeorm';

/** Admin password resets: a one-time link like an invitation, stored hashed, with an expiry. */
export class PasswordReset1795740000001 implements MigrationInterface {
  name = 'PasswordReset1795740000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users ADD COLUMN reset_token_hash char(64), ADD COLUMN reset_expires_at timestamptz;
      CREATE UNIQUE INDEX users_reset_token_hash_key ON users (reset_token_hash) WHERE reset_token_hash IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN reset_token_hash, DROP COLUMN reset_expires_at`);
  }
}
