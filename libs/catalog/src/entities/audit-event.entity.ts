import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) at!: Date;
  @Column({ name: 'actor_user_id', type: 'uuid', nullable: true }) actorUserId!: string | null;
  @Column({ name: 'actor_email', type: 'varchar', length: 254, nullable: true }) actorEmail!: string | null;
  @Column({ type: 'varchar', length: 64 }) action!: string;
  @Column({ name: 'subject_type', type: 'varchar', length: 32, nullable: true }) subjectType!: string | null;
  @Column({ name: 'subject_id', type: 'varchar', length: 64, nullable: true }) subjectId!: string | null;
  @Column({ type: 'jsonb' }) details!: Record<string, unknown>;
  @Column({ type: 'varchar', length: 64, nullable: true }) ip!: string | null;
  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true }) requestId!: string | null;
}
