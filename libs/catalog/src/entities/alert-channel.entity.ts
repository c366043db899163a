import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type AlertChannelKind = 'email' | 'webhook';

/** Where alerts go. The SMTP URL, the webhook URL and its signing secret are sealed and never selected by default. */
@Entity('alert_channels')
export class AlertChannelEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'varchar', length: 16 }) kind!: AlertChannelKind;
  /** Non-secret settings (from, to, SMTP host and port, webhook host and format). */
  @Column({ type: 'jsonb' }) settings!: Record<string, unknown>;
  @Column({ name: 'secrets_encrypted', type: 'bytea', select: false }) secretsEncrypted!: Buffer;
  /** One summary a day instead of an alert per event. */
  @Column({ type: 'boolean' }) digest!: boolean;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ name: 'last_sent_at', type: 'timestamptz', nullable: true }) lastSentAt!: Date | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true }) lastErrorAt!: Date | null;
  @Column({ name: 'last_digest_at', type: 'timestamptz', nullable: true }) lastDigestAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
