import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Something that needs a person, from when the problem detector first saw it until it cleared. */
@Entity('problems')
export class ProblemEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Stable identity of the problem (`volume:<id>:offline`): one open row per key. */
  @Column({ type: 'text' }) key!: string;
  @Column({ type: 'varchar', length: 32 }) kind!: string;
  @Column({ type: 'varchar', length: 16 }) severity!: 'critical' | 'warning';
  @Column({ type: 'text' }) title!: string;
  /** What it is about: project, card, volume, target, drill ids and names. */
  @Column({ type: 'jsonb' }) subject!: Record<string, unknown>;
  @Column({ type: 'jsonb' }) details!: Record<string, unknown>;
  /** The portal page where it is fixed (a path, e.g. /admin/offsite). */
  @Column({ type: 'text', nullable: true }) link!: string | null;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'last_seen_at', type: 'timestamptz' }) lastSeenAt!: Date;
  @Column({ name: 'cleared_at', type: 'timestamptz', nullable: true }) clearedAt!: Date | null;
}
