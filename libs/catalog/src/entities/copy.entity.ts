import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { CopyState, LockMode } from '@studiovault/contracts';

/** One copy of an asset: on a local volume, or a version on an off-site target. */
@Entity('copies')
export class CopyEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id!: string;
  @Column({ name: 'asset_id', type: 'bigint' }) assetId!: string;
  @Column({ name: 'volume_id', type: 'uuid', nullable: true }) volumeId!: string | null;
  @Column({ name: 'target_id', type: 'uuid', nullable: true }) targetId!: string | null;
  @Column({ type: 'varchar', length: 16 }) state!: CopyState;
  @Column({ type: 'text', nullable: true }) location!: string | null;
  @Column({ name: 'version_id', type: 'text', nullable: true }) versionId!: string | null;
  @Column({ name: 'verify_method', type: 'varchar', length: 16, nullable: true }) verifyMethod!: string | null;
  @Column({ name: 'observed_xxh64', type: 'char', length: 16, nullable: true }) observedXxh64!: string | null;
  @Column({ name: 'observed_sha256', type: 'char', length: 64, nullable: true }) observedSha256!: string | null;
  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true }) verifiedAt!: Date | null;
  @Column({ name: 'lock_mode', type: 'varchar', length: 16, nullable: true }) lockMode!: LockMode | null;
  @Column({ name: 'retain_until', type: 'timestamptz', nullable: true }) retainUntil!: Date | null;
  @Column({ name: 'lock_checked_at', type: 'timestamptz', nullable: true }) lockCheckedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  /** When the scrub last re-read this local copy from its device, and what it found. */
  @Column({ name: 'last_scrubbed_at', type: 'timestamptz', nullable: true }) lastScrubbedAt!: Date | null;
  @Column({ name: 'scrub_result', type: 'varchar', length: 16, nullable: true }) scrubResult!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
