import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { LockMode, TargetKind } from '@studiovault/contracts';

@Entity('offsite_targets')
export class OffsiteTargetEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'varchar', length: 8 }) kind!: TargetKind;
  /** Non-secret settings (endpoint, region, bucket, prefix, path). */
  @Column({ type: 'jsonb' }) settings!: Record<string, unknown>;
  /** Encrypted with STUDIOVAULT_SECRET_KEY; never selected by default. */
  @Column({ name: 'credentials_encrypted', type: 'bytea', nullable: true, select: false }) credentialsEncrypted!: Buffer | null;
  /** Set when a separate maintenance credential (expiry deletes) is stored; the box itself is never selected. */
  @Column({
    name: 'maintenance_credentials_encrypted',
    type: 'bytea',
    nullable: true,
    select: false,
  })
  maintenanceCredentialsEncrypted!: Buffer | null;
  @Column({ name: 'lock_mode', type: 'varchar', length: 16 }) lockMode!: LockMode;
  @Column({ type: 'boolean' }) immutable!: boolean;
  @Column({ name: 'rotates_offsite', type: 'boolean' }) rotatesOffsite!: boolean;
  @Column({ type: 'boolean' }) enabled!: boolean;
  /** A disk target on a drive that is unplugged at times (the rotated USB drive): away means waiting, not failing. */
  @Column({ type: 'boolean', default: false }) removable!: boolean;
  /** The uuid of the identity marker written into a disk target's folder when it was created. */
  @Column({ name: 'marker_uuid', type: 'uuid', nullable: true }) markerUuid!: string | null;
  /** When a disk target's drive was last found plugged in (its marker read back). */
  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true }) lastSeenAt!: Date | null;
  @Column({ name: 'last_test_at', type: 'timestamptz', nullable: true }) lastTestAt!: Date | null;
  @Column({ name: 'last_test_ok', type: 'boolean', nullable: true }) lastTestOk!: boolean | null;
  @Column({ name: 'last_test_report', type: 'jsonb', nullable: true }) lastTestReport!: unknown;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
