import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { CardState } from '@studiovault/contracts';

@Entity('cards')
export class CardEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @Column({ type: 'varchar', length: 100 }) label!: string;
  @Column({ name: 'camera_make', type: 'varchar', length: 100, nullable: true }) cameraMake!: string | null;
  @Column({ name: 'camera_model', type: 'varchar', length: 100, nullable: true }) cameraModel!: string | null;
  @Column({ name: 'camera_serial', type: 'varchar', length: 100, nullable: true }) cameraSerial!: string | null;
  @Column({ type: 'varchar', length: 16 }) state!: CardState;
  @Column({ name: 'announced_files', type: 'integer', nullable: true }) announcedFiles!: number | null;
  @Column({ name: 'announced_bytes', type: 'bigint', nullable: true }) announcedBytes!: string | null;
  @Column({ name: 'file_count', type: 'integer', default: 0 }) fileCount!: number;
  @Column({ name: 'total_bytes', type: 'bigint', default: 0 }) totalBytes!: string;
  @Column({ name: 'redundant_of_card_id', type: 'uuid', nullable: true }) redundantOfCardId!: string | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true }) verifiedAt!: Date | null;
}
