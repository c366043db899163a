import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FileClass, ProtectionLevel } from '@studiovault/contracts';

/** One file of a card. `protection` is the level the last checks proved (see DESIGN.md). */
@Entity('assets')
export class AssetEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id!: string;
  @Column({ name: 'card_id', type: 'uuid' }) cardId!: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  /** The path exactly as the card gave it (macOS: NFD). */
  @Column({ name: 'relative_path', type: 'text' }) relativePath!: string;
  /** The same path in Unicode NFC: what comparisons and uniqueness use. */
  @Column({ name: 'relative_path_nfc', type: 'text' }) relativePathNfc!: string;
  @Column({ type: 'smallint', default: 1 }) version!: number;
  /** Where the bytes are under each volume root (NFC; a different-content twin gets a version suffix). */
  @Column({ name: 'stored_path', type: 'text', nullable: true }) storedPath!: string | null;
  @Column({ type: 'bigint' }) size!: string;
  @Column({ name: 'file_class', type: 'varchar', length: 16 }) fileClass!: FileClass;
  @Column({ name: 'capture_time', type: 'timestamptz', nullable: true }) captureTime!: Date | null;
  @Column({ name: 'modified_time', type: 'timestamptz', nullable: true }) modifiedTime!: Date | null;
  @Column({ type: 'char', length: 16, nullable: true }) xxh64!: string | null;
  @Column({ type: 'char', length: 64, nullable: true }) sha256!: string | null;
  @Column({ type: 'varchar', length: 16 }) protection!: ProtectionLevel;
  @Column({ name: 'protection_reason', type: 'text', nullable: true }) protectionReason!: string | null;
  /** The last drill could not open the original (its bytes match the card's hash): what the opener said. Not a level. */
  @Column({ name: 'open_finding', type: 'text', nullable: true }) openFinding!: string | null;
  @Column({ name: 'open_finding_at', type: 'timestamptz', nullable: true }) openFindingAt!: Date | null;
  @Column({ name: 'duplicate_of_asset_id', type: 'bigint', nullable: true }) duplicateOfAssetId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
