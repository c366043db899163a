import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FindingDto } from './integrity.dto';
import { Type } from 'class-transformer';
import { IsBoolean, IsEnum, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CardState, NameWarningCode, ProtectionLevel, SafeToFormatRule, VolumeRole } from '@studiovault/contracts';
import { CardStatus, SealResult } from '@studiovault/ingest';

export class AnnounceCardDto {
  @ApiProperty({ maxLength: 100, description: 'Folder name of the card, e.g. "A001" or "CARD-1"' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label!: string;
  @ApiPropertyOptional({ description: 'Files on the card (the CLI counts them before the first byte)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  files?: number;
  @ApiPropertyOptional({ description: 'Bytes on the card: a card that does not fit on both volumes is refused' })
  @IsOptional()
  @IsInt()
  @Min(0)
  bytes?: number;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) cameraMake?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) cameraModel?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) cameraSerial?: string;
}

export class VerdictDto {
  @ApiProperty({ description: 'Safe to format: every condition proven true' }) safe!: boolean;
  @ApiProperty() reason!: string;
}

export class LevelCountsDto {
  @ApiProperty() uploading!: number;
  @ApiProperty() copied!: number;
  @ApiProperty() verified!: number;
  @ApiProperty() offsite!: number;
  @ApiProperty() immutable!: number;
  @ApiProperty() drilled!: number;
  @ApiProperty() at_risk!: number;
}

export class OfflineVolumeDto {
  @ApiProperty({ enum: VolumeRole, enumName: 'VolumeRole' }) role!: VolumeRole;
  @ApiProperty() rootPath!: string;
  @ApiProperty({ example: 'marker missing at /pools/mirror/.studiovault-volume.json' }) reason!: string;
}

export class NameWarningDto {
  @ApiProperty({ enum: NameWarningCode, enumName: 'NameWarningCode' }) code!: NameWarningCode;
  @ApiProperty() message!: string;
}

export class CardNameWarningDto extends NameWarningDto {
  @ApiProperty({ description: 'The path as the card gave it' }) relativePath!: string;
}

export class CardDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() label!: string;
  @ApiProperty({ enum: CardState, enumName: 'CardState' }) state!: CardState;
  @ApiProperty({ type: String, nullable: true }) cameraMake!: string | null;
  @ApiProperty({ type: String, nullable: true }) cameraModel!: string | null;
  @ApiProperty({ type: String, nullable: true }) cameraSerial!: string | null;
  @ApiProperty() fileCount!: number;
  @ApiProperty() totalBytes!: number;
  @ApiProperty({ type: Number, nullable: true }) announcedFiles!: number | null;
  @ApiProperty({ type: Number, nullable: true }) announcedBytes!: number | null;
  @ApiProperty({ type: LevelCountsDto }) levels!: LevelCountsDto;
  @ApiProperty() uploadsInFlight!: number;
  @ApiProperty({ type: VerdictDto }) verdict!: VerdictDto;
  @ApiProperty({ description: 'The two volumes share a device (shown as a warning)' }) sameDevice!: boolean;
  @ApiProperty({ type: [OfflineVolumeDto], description: 'Volumes offline now: no card is safe to format while one is' })
  offlineVolumes!: OfflineVolumeDto[];
  @ApiProperty({ description: 'Files with a copy on an offline volume (that copy is unreachable and does not count)' })
  unreachableFiles!: number;
  @ApiProperty({
    type: [CardNameWarningDto],
    description:
      'What the ingest noticed about file names (first 100): case twins, bidirectional controls, a file stored under another name',
  })
  warnings!: CardNameWarningDto[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) verifiedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(s: CardStatus): CardDto {
    const c = s.card;
    const levels = Object.fromEntries(Object.values(ProtectionLevel).map((l) => [l, s.byLevel[l] ?? 0])) as unknown as LevelCountsDto;
    return {
      id: c.id,
      label: c.label,
      state: c.state,
      cameraMake: c.cameraMake,
      cameraModel: c.cameraModel,
      cameraSerial: c.cameraSerial,
      fileCount: c.fileCount,
      totalBytes: Number(c.totalBytes),
      announcedFiles: c.announcedFiles,
      announcedBytes: c.announcedBytes === null ? null : Number(c.announcedBytes),
      levels,
      uploadsInFlight: s.uploadsInFlight,
      verdict: s.verdict,
      sameDevice: s.sameDevice,
      offlineVolumes: s.offlineVolumes,
      unreachableFiles: s.unreachable,
      warnings: s.warnings.map((w) => ({ relativePath: w.relativePath, code: w.code, message: w.message })),
      verifiedAt: c.verifiedAt?.toISOString() ?? null,
      createdAt: c.createdAt.toISOString(),
    };
  }
}

export class SealDto {
  @ApiProperty({ pattern: '^[0-9a-f]{16}$', description: 'xxh64 of the file as read from the card' })
  @IsString()
  @Matches(/^[0-9a-f]{16}$/, { message: 'xxh64 must be 16 lowercase hex digits' })
  xxh64!: string;
  @ApiProperty({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the file as read from the card' })
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'sha256 must be 64 lowercase hex digits' })
  sha256!: string;
}

export class SealResultDto {
  @ApiProperty() assetId!: string;
  @ApiProperty({
    enum: ['stored', 'duplicate', 'twin', 'version', 'history'],
    description:
      "duplicate: already on this card; twin: identical to a file of another card (stored once); version: same name, other content, kept beside it; history: a file of the card's ascmhl/ folder",
  })
  outcome!: SealResult['outcome'];
  @ApiProperty() relativePath!: string;
  @ApiProperty() storedPath!: string;
  @ApiProperty({ enum: ProtectionLevel, enumName: 'ProtectionLevel' }) protection!: ProtectionLevel;
  @ApiProperty({ type: [NameWarningDto], description: 'What the ingest noticed about the name; the file is stored as given either way' })
  warnings!: NameWarningDto[];
}

export class CopyDto {
  @ApiProperty({ enum: ['primary', 'mirror'] }) volume!: string;
  @ApiProperty({ description: 'written, verified, missing, mismatch; "unreachable" while its volume is offline (it does not count then)' })
  state!: string;
  @ApiProperty({ type: String, nullable: true, description: 'o_direct (read from the device) or plain (file system refused O_DIRECT)' })
  verifyMethod!: string | null;
  @ApiProperty({ type: String, nullable: true }) observedXxh64!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) verifiedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the scrub last re-read this copy from its device' })
  lastScrubbedAt!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What that read found: ok, mismatch, missing, short, long, read_error, healed',
  })
  scrubResult!: string | null;
}

export class CardFileDto {
  @ApiProperty() id!: string;
  @ApiProperty() relativePath!: string;
  @ApiProperty() size!: number;
  @ApiProperty({ enum: ProtectionLevel, enumName: 'ProtectionLevel' }) protection!: ProtectionLevel;
  @ApiProperty({ type: String, nullable: true }) protectionReason!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'A restore drill could not open the original (its bytes match the card): what the opener said. Not a copy problem; the level is unchanged',
  })
  openFinding!: string | null;
  @ApiProperty({ type: String, nullable: true }) xxh64!: string | null;
  @ApiProperty({ type: String, nullable: true }) sha256!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) captureTime!: string | null;
  @ApiProperty({ type: [NameWarningDto] }) warnings!: NameWarningDto[];
  @ApiProperty({ type: [CopyDto] }) copies!: CopyDto[];
  @ApiProperty({ type: [FindingDto], description: "The file's history: damage found (by whom) and what became of it, newest first" })
  findings!: FindingDto[];
}

export class CardFilesDto {
  @ApiProperty({ type: [CardFileDto] }) items!: CardFileDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page' }) nextCursor!: string | null;
}

export class CardFilesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
  @ApiPropertyOptional({ maxLength: 8192 }) @IsOptional() @IsString() @MaxLength(8192) after?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only files not (yet) verified on two devices, at risk included' })
  @IsOptional()
  @IsIn(['true', 'false'])
  notVerified?: 'true' | 'false';
}

export class SafeToFormatRuleDto {
  @ApiProperty({ enum: SafeToFormatRule, enumName: 'SafeToFormatRule' }) @IsEnum(SafeToFormatRule) rule!: SafeToFormatRule;
}

export class SameDeviceOverrideDto {
  @ApiProperty({ description: 'Let two roots on one device count as two copies (not two media): a warning shows on every card' })
  @IsBoolean()
  allow!: boolean;
}

export class MhlHashFormatDto {
  @ApiProperty({ enum: ['xxh64', 'xxh128', 'md5', 'sha1'] }) @IsIn(['xxh64', 'xxh128', 'md5', 'sha1']) format!:
    'xxh64' | 'xxh128' | 'md5' | 'sha1';
}
