import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A volume is known by the identity marker at its root and its device (DESIGN.md):
 * - marker_uuid: the random uuid written into `<root>/.studiovault-volume.json` at set-up.
 * - device_id (existing) now holds the device recorded at set-up, not the last one seen.
 * - offline_reason: why the last check found the volume offline (marker missing, foreign marker,
 *   device changed, root missing), for the admin to act on.
 */
export class VolumeIdentity1795780000000 implements MigrationInterface {
  name = 'VolumeIdentity1795780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE storage_volumes ADD COLUMN marker_uuid uuid, ADD COLUMN offline_reason text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE storage_volumes DROP COLUMN marker_uuid, DROP COLUMN offline_reason`);
  }
}
