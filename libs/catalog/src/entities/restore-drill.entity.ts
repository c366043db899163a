import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('restore_drills')
export class RestoreDrillEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'target_id', type: 'uuid', nullable: true }) targetId!: string | null;
  @Column({ type: 'varchar', length: 16 }) trigger!: 'schedule' | 'manual';
  @Column({ type: 'varchar', length: 16 }) state!: 'queued' | 'running' | 'passed' | 'failed';
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'integer' }) files!: number;
  @Column({ type: 'bigint' }) bytes!: string;
  @Column({ name: 'error_count', type: 'integer' }) errorCount!: number;
  @Column({ type: 'jsonb' }) report!: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
