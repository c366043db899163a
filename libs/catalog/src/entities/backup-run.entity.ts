import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { RunState, RunTrigger } from '@studiovault/contracts';

export interface BackupRunError {
  path?: string;
  key?: string;
  message: string;
}

@Entity('backup_runs')
export class BackupRunEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'target_id', type: 'uuid' }) targetId!: string;
  @Column({ type: 'varchar', length: 16 }) trigger!: RunTrigger;
  @Column({ type: 'varchar', length: 16 }) state!: RunState;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  /** Files uploaded by this run. */
  @Column({ type: 'integer' }) files!: number;
  /** Files found already on the target (same content uploaded before, a twin card, a resumed run). */
  @Column({ name: 'files_skipped', type: 'integer' }) filesSkipped!: number;
  @Column({ type: 'bigint' }) bytes!: string;
  @Column({ name: 'error_count', type: 'integer' }) errorCount!: number;
  @Column({ type: 'jsonb' }) errors!: BackupRunError[];
  @Column({ type: 'text', nullable: true }) message!: string | null;
  /** A nightly run pauses at this time and resumes the next night. */
  @Column({ name: 'window_end', type: 'timestamptz', nullable: true }) windowEnd!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
