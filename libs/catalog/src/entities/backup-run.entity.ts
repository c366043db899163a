import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { RunState, RunTrigger } from '@studiovault/contracts';

@Entity('backup_runs')
export class BackupRunEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'target_id', type: 'uuid' }) targetId!: string;
  @Column({ type: 'varchar', length: 16 }) trigger!: RunTrigger;
  @Column({ type: 'varchar', length: 16 }) state!: RunState;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'integer' }) files!: number;
  @Column({ type: 'bigint' }) bytes!: string;
  @Column({ name: 'error_count', type: 'integer' }) errorCount!: number;
  @Column({ type: 'jsonb' }) errors!: unknown[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
