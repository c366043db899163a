import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDateString,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import type { RetentionPolicyEntity } from '@studiovault/catalog';
import { FileClass, LockMode, ProjectType } from '@studiovault/contracts';
import { DRILL_ADVICE, type DrillFindingKind, type RestorableFile, type RestoreRow } from '@studiovault/recovery';

const SOURCES = ['primary', 'mirror', 'offsite'] as const;

export class RestorePlanQueryDto {
  @ApiPropertyOptional({ description: 'One card, by label' }) @IsOptional() @IsString() @MaxLength(100) card?: string;
  @ApiPropertyOptional({
    description:
      'A restore pattern on the path on the card, any case: without "/" a file or folder name at any depth (*.JPG), with "/" the path from the card (DCIM/**/*.CR3); * ? [a-z] **; no extended globs or braces; at most 512 characters and 32 wildcards (else 400 INVALID_RESTORE_PATTERN)',
  })
  @IsOptional()
  @IsString()
  path?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'The files the project had at this time' })
  @IsOptional()
  @IsDateString()
  at?: string;
}

export class RestoreFileDto {
  @ApiProperty({ description: 'For GET /api/assets/{id}/content' }) assetId!: string;
  @ApiProperty() cardLabel!: string;
  @ApiProperty() path!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'Where the file goes under the destination folder' }) restorePath!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ type: String, nullable: true }) xxh64!: string | null;

  static from(f: RestorableFile, restorePath: string): RestoreFileDto {
    return {
      assetId: f.assetId,
      cardLabel: f.cardLabel,
      path: f.path,
      version: f.version,
      restorePath,
      size: f.size,
      sha256: f.sha256,
      xxh64: f.xxh64,
    };
  }
}

export class RestorePlanDto {
  @ApiProperty() projectSlug!: string;
  @ApiProperty() projectName!: string;
  @ApiProperty({ type: [RestoreFileDto] }) files!: RestoreFileDto[];
  @ApiProperty() bytes!: number;
}

export class FileContentQueryDto {
  @ApiPropertyOptional({ enum: SOURCES, description: 'Default: the best healthy copy' })
  @IsOptional()
  @IsIn(SOURCES)
  from?: (typeof SOURCES)[number];
}

export class StartRestoreDto {
  @ApiProperty({ description: 'Project slug' }) @IsString() @MinLength(1) @MaxLength(64) project!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) card?: string;
  @ApiPropertyOptional({
    description:
      'A restore pattern on the path on the card, any case: without "/" a file or folder name at any depth (*.JPG), with "/" the path from the card (DCIM/**/*.CR3); * ? [a-z] **; no extended globs or braces; at most 512 characters and 32 wildcards (else 400 INVALID_RESTORE_PATTERN)',
  })
  @IsOptional()
  @IsString()
  path?: string;
  @ApiPropertyOptional({ enum: SOURCES }) @IsOptional() @IsIn(SOURCES) from?: (typeof SOURCES)[number];
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsDateString() at?: string;
  @ApiProperty({ description: 'An absolute folder on the NAS; must hold none of the files yet' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  destination!: string;
}

export class RestoreErrorDto {
  @ApiProperty() path!: string;
  @ApiProperty() message!: string;
}

export class RestoreDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() project!: string;
  @ApiProperty({ type: String, nullable: true }) card!: string | null;
  @ApiProperty({ type: String, nullable: true }) path!: string | null;
  @ApiProperty({ enum: ['auto', ...SOURCES] }) source!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) at!: string | null;
  @ApiProperty() destination!: string;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed'] }) state!: string;
  @ApiProperty() files!: number;
  @ApiProperty() bytes!: number;
  @ApiProperty() doneFiles!: number;
  @ApiProperty() doneBytes!: number;
  @ApiProperty() restored!: number;
  @ApiProperty() verified!: number;
  @ApiProperty() failed!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'MB/s so far' }) throughputMBps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds left, estimated' }) etaSeconds!: number | null;
  @ApiProperty({ type: [RestoreErrorDto] }) errors!: RestoreErrorDto[];
  @ApiProperty({ type: String, nullable: true }) message!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;

  static from(r: RestoreRow): RestoreDto {
    const started = r.started_at ? new Date(r.started_at).getTime() : null;
    const end = r.finished_at ? new Date(r.finished_at).getTime() : Date.now();
    const secs = started ? (end - started) / 1000 : 0;
    const done = Number(r.done_bytes);
    const rate = secs > 0 ? done / secs : 0;
    return {
      id: r.id,
      project: r.slug,
      card: r.card_label,
      path: r.path_glob,
      source: r.source,
      at: r.at ? new Date(r.at).toISOString() : null,
      destination: r.destination,
      state: r.state,
      files: r.files,
      bytes: Number(r.bytes),
      doneFiles: r.done_files,
      doneBytes: done,
      restored: r.restored,
      verified: r.verified,
      failed: r.failed,
      throughputMBps: rate ? Math.round((rate / 1e6) * 10) / 10 : null,
      etaSeconds: rate && r.state === 'running' ? Math.round((Number(r.bytes) - done) / rate) : null,
      errors: r.errors ?? [],
      message: r.message,
      startedAt: r.started_at ? new Date(r.started_at).toISOString() : null,
      finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
      createdAt: new Date(r.created_at).toISOString(),
    };
  }
}

export class LimitQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class DrillErrorDto {
  @ApiPropertyOptional() path?: string;
  @ApiProperty({ enum: ['target', 'restore', 'hash', 'open', 'lock', 'delete-refused'], description: 'Which check saw it' }) check!: string;
  @ApiProperty({
    enum: [
      'damaged_copy',
      'missing_copy',
      'unreadable_copy',
      'unreadable_original',
      'lock_not_in_force',
      'delete_not_refused',
      'target_unreachable',
    ],
    description:
      'What it is: a damaged or missing copy (the file is at risk), or an original that matches its hash but cannot be opened (not a copy problem)',
  })
  kind!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ description: 'What a person does about it' }) advice!: string;
}

export class DrillOpenedDto {
  @ApiProperty() path!: string;
  @ApiProperty({ enum: ['raw', 'jpeg', 'video'] }) kind!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty() detail!: string;
  @ApiPropertyOptional({ description: 'JPEG, base64' }) thumbnail?: string;
}

export class DrillDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['schedule', 'manual'] }) trigger!: string;
  @ApiProperty({ enum: ['queued', 'running', 'passed', 'failed'] }) state!: string;
  @ApiProperty({ type: String, nullable: true }) targetName!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty() files!: number;
  @ApiProperty() bytes!: number;
  @ApiProperty() errorCount!: number;
  @ApiProperty({ type: Number, nullable: true }) durationSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Time to restore every drilled file' }) restoreSeconds!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The plain verdict: "Zero errors: …" or the errors' }) verdict!: string | null;
  @ApiProperty({ type: [DrillErrorDto], description: 'Copy and target problems: any of them fails the drill' }) errors!: DrillErrorDto[];
  @ApiProperty({
    type: [DrillErrorDto],
    description: 'Findings that are not copy problems (an original that cannot be opened): the drill still passes, levels stay',
  })
  findings!: DrillErrorDto[];
  @ApiPropertyOptional({ type: [DrillOpenedDto], description: 'Files opened like a person would, with thumbnails (GET one drill)' })
  opened?: DrillOpenedDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) project?: string | null;
  @ApiPropertyOptional() sampled?: number;
  @ApiPropertyOptional() locksChecked?: number;
  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    description: 'The backup key was refused when it tried to delete a locked version',
  })
  deleteRefused?: boolean | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static from(d: any, full = false): DrillDto {
    const report = (d.report ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return {
      id: d.id,
      trigger: d.trigger,
      state: d.state,
      targetName: d.target_name ?? null,
      startedAt: d.started_at ? new Date(d.started_at).toISOString() : null,
      finishedAt: d.finished_at ? new Date(d.finished_at).toISOString() : null,
      files: d.files,
      bytes: Number(d.bytes),
      errorCount: d.error_count,
      durationSeconds: report.durationSeconds ?? null,
      restoreSeconds: d.restore_seconds ?? null,
      verdict: d.message ?? null,
      errors: (d.errors ?? []).map(withKind),
      findings: (report.findings ?? []).map(withKind),
      ...(full
        ? {
            opened: report.opened ?? [],
            project: report.project?.slug ?? null,
            sampled: report.sampled ?? 0,
            locksChecked: report.locksChecked ?? 0,
            deleteRefused: report.deleteRefused ?? null,
          }
        : {}),
      createdAt: new Date(d.created_at).toISOString(),
    };
  }
}

/** Drills recorded before findings had kinds: the kind follows from the check. */
const KIND_OF_CHECK: Record<string, string> = {
  target: 'target_unreachable',
  restore: 'unreadable_copy',
  hash: 'damaged_copy',
  open: 'unreadable_original',
  lock: 'lock_not_in_force',
  'delete-refused': 'delete_not_refused',
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withKind(e: any): DrillErrorDto {
  const kind = e.kind ?? KIND_OF_CHECK[e.check] ?? 'unreadable_copy';
  return { ...e, kind, advice: e.advice ?? DRILL_ADVICE[kind as DrillFindingKind] ?? '' };
}

export class DrillSettingsDto {
  @ApiProperty({ example: '0 3 1 * *', description: 'Cron, 5 fields, in the time zone (default: 03:00 on the 1st)' })
  @IsString()
  @MaxLength(100)
  schedule!: string;
  @ApiProperty({ example: 'Europe/Berlin' }) @IsString() @MaxLength(64) timezone!: string;
  @ApiProperty({ description: 'Older files restored at random besides the latest project' })
  @IsInt()
  @Min(0)
  @Max(10_000)
  sampleSize!: number;
  @ApiProperty({ description: 'Files opened like a person would' }) @IsInt() @Min(0) @Max(1000) openSize!: number;
}

export class DrillStartedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
}

export class RetentionPolicyDto {
  @ApiPropertyOptional({ format: 'uuid', readOnly: true }) id?: string;
  @ApiProperty({ enum: FileClass, enumName: 'FileClass' }) @IsEnum(FileClass) fileClass!: FileClass;
  @ApiPropertyOptional({ enum: ProjectType, enumName: 'ProjectType', nullable: true, description: 'Only for this project type; null: all' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsEnum(ProjectType)
  projectType?: ProjectType | null;
  @ApiProperty({ enum: LockMode, enumName: 'LockMode' }) @IsEnum(LockMode) lockMode!: LockMode;
  @ApiProperty({ description: 'Days each off-site copy is locked' }) @IsInt() lockDays!: number;
  @ApiProperty({ description: 'Days versions are kept off-site (≥ lockDays)' }) @IsInt() versionKeepDays!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Days files stay on the NAS once immutable off-site and drilled; null: forever',
  })
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  localKeepDays!: number | null;

  static from(p: RetentionPolicyEntity): RetentionPolicyDto {
    return {
      id: p.id,
      fileClass: p.fileClass,
      projectType: p.projectType,
      lockMode: p.lockMode,
      lockDays: p.lockDays,
      versionKeepDays: p.versionKeepDays,
      localKeepDays: p.localKeepDays,
    };
  }
}

export class RetentionPoliciesDto {
  @ApiProperty({ type: [RetentionPolicyDto] }) policies!: RetentionPolicyDto[];
  @ApiProperty({ description: 'Lock days per class when no policy is set', type: 'object', additionalProperties: { type: 'number' } })
  defaults!: Record<string, number>;
}

export class LegalHoldDto {
  @ApiProperty() @IsBoolean() on!: boolean;
  @ApiPropertyOptional({ description: 'Required to set a hold' }) @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

export class LegalHoldStateDto {
  @ApiProperty() legalHold!: boolean;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
}

export class ExpiryItemDto {
  @ApiProperty({ enum: ['local', 'offsite'] }) kind!: string;
  @ApiProperty() path!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() why!: string;
}

export class ExpiryPreviewDto {
  @ApiProperty({ format: 'uuid', description: 'Confirm this preview to act on it' }) id!: string;
  @ApiProperty() localFiles!: number;
  @ApiProperty() localBytes!: number;
  @ApiProperty() offsiteVersions!: number;
  @ApiProperty() offsiteBytes!: number;
  @ApiProperty({ type: [ExpiryItemDto], description: 'The first 1000' }) items!: ExpiryItemDto[];
}

export class ExpiryStateDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['previewed', 'confirmed', 'done', 'failed'] }) state!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) result?: Record<string, unknown>;
}

export class MaintenanceCredentialDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(256) accessKeyId!: string;
  @ApiProperty({ description: 'Stored encrypted; never returned' }) @IsString() @MinLength(1) @MaxLength(1024) secretAccessKey!: string;
}
