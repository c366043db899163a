import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ProjectStatus, ProjectType } from '@studiovault/contracts';

@Entity('projects')
export class ProjectEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 64 }) slug!: string;
  @Column({ type: 'varchar', length: 200, nullable: true }) client!: string | null;
  @Column({ name: 'shoot_date', type: 'date', nullable: true }) shootDate!: string | null;
  @Column({ type: 'varchar', length: 16 }) type!: ProjectType;
  @Column({ type: 'varchar', length: 16 }) status!: ProjectStatus;
  @Column({ name: 'legal_hold', type: 'boolean', default: false }) legalHold!: boolean;
  @Column({ name: 'legal_hold_reason', type: 'text', nullable: true }) legalHoldReason!: string | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true }) archivedAt!: Date | null;
}
