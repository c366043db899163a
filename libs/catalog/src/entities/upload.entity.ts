import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type UploadState = 'receiving' | 'received' | 'sealed' | 'mismatch' | 'failed' | 'aborted';
export type MirrorUploadState = 'writing' | 'offline' | 'full' | 'failed';

/** A tus upload in flight (see migrations/…-Uploads). */
@Entity('uploads')
export class UploadEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ name: 'card_id', type: 'uuid' }) cardId!: string;
  @Column({ name: 'relative_path', type: 'text' }) relativePath!: string;
  @Column({ name: 'relative_path_nfc', type: 'text' }) relativePathNfc!: string;
  @Column({ type: 'bigint' }) size!: string;
  @Column({ name: 'modified_time', type: 'timestamptz', nullable: true }) modifiedTime!: Date | null;
  @Column({ name: 'client_xxh64', type: 'char', length: 16, nullable: true }) clientXxh64!: string | null;
  @Column({ name: 'client_sha256', type: 'char', length: 64, nullable: true }) clientSha256!: string | null;
  @Column({ name: 'server_xxh64', type: 'char', length: 16, nullable: true }) serverXxh64!: string | null;
  @Column({ name: 'server_sha256', type: 'char', length: 64, nullable: true }) serverSha256!: string | null;
  @Column({ type: 'varchar', length: 16 }) state!: UploadState;
  @Column({ name: 'mirror_state', type: 'varchar', length: 16 }) mirrorState!: MirrorUploadState;
  @Column({ name: 'asset_id', type: 'bigint', nullable: true }) assetId!: string | null;
  /** What the seal decided: stored, duplicate, twin, version, history. */
  @Column({ type: 'varchar', length: 16, nullable: true }) outcome!: 'stored' | 'duplicate' | 'twin' | 'version' | 'history' | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
