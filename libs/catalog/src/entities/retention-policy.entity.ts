import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FileClass, LockMode, ProjectType } from '@studiovault/contracts';

@Entity('retention_policies')
export class RetentionPolicyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'file_class', type: 'varchar', length: 16 }) fileClass!: FileClass;
  @Column({ name: 'project_type', type: 'varchar', length: 16, nullable: true }) projectType!: ProjectType | null;
  @Column({ name: 'lock_mode', type: 'varchar', length: 16 }) lockMode!: LockMode;
  @Column({ name: 'lock_days', type: 'integer' }) lockDays!: number;
  @Column({ name: 'version_keep_days', type: 'integer' }) versionKeepDays!: number;
  @Column({ name: 'local_keep_days', type: 'integer', nullable: true }) localKeepDays!: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
