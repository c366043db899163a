import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * assets.open_finding: what the last restore drill's opener said about a file whose restored
 * bytes matched the card's hash but which cannot be opened as an image or video (the original
 * itself is like that). A finding, not a protection level: the file's level and its card's
 * "safe to format" do not change. Cleared when a later drill opens the file.
 */
export class OpenFinding1795800000000 implements MigrationInterface {
  name = 'OpenFinding1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE assets ADD COLUMN open_finding text, ADD COLUMN open_finding_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE assets DROP COLUMN open_finding, DROP COLUMN open_finding_at`);
  }
}
