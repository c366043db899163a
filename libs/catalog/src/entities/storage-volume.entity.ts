import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { VolumeRole, VolumeState } from '@studiovault/contracts';

@Entity('storage_volumes')
export class StorageVolumeEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 16 }) role!: VolumeRole;
  @Column({ name: 'root_path', type: 'text' }) rootPath!: string;
  @Column({ name: 'device_id', type: 'varchar', length: 64, nullable: true }) deviceId!: string | null;
  @Column({ name: 'same_device', type: 'boolean' }) sameDevice!: boolean;
  @Column({ name: 'same_device_override', type: 'boolean' }) sameDeviceOverride!: boolean;
  @Column({ type: 'varchar', length: 16 }) state!: VolumeState;
  @Column({ name: 'free_bytes', type: 'bigint', nullable: true }) freeBytes!: string | null;
  @Column({ name: 'total_bytes', type: 'bigint', nullable: true }) totalBytes!: string | null;
  /** The uuid of the identity marker written at the volume's root at set-up (null: not set up yet). */
  @Column({ name: 'marker_uuid', type: 'uuid', nullable: true }) markerUuid!: string | null;
  /** Why the last check found the volume offline (null while online). */
  @Column({ name: 'offline_reason', type: 'text', nullable: true }) offlineReason!: string | null;
  @Column({ name: 'last_checked_at', type: 'timestamptz', nullable: true }) lastCheckedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
