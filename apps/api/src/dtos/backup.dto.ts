import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import type { BackupSettings, TargetSettings } from '@studiovault/backup';
import type { BackupRunEntity, OffsiteTargetEntity } from '@studiovault/catalog';
import { LockMode, RunState, RunTrigger, TargetKind } from '@studiovault/contracts';
import type { PreflightReport } from '@studiovault/offsite';

const CHECK_IDS = ['reachable', 'credentials', 'bucket', 'versioning', 'objectLock', 'put', 'retention'];

export class PreflightCheckDto {
  @ApiProperty({ enum: CHECK_IDS }) id!: string;
  @ApiProperty({ description: 'As the admin reads it: "Object Lock on"' }) name!: string;
  @ApiProperty({ enum: ['ok', 'failed', 'skipped'] }) status!: 'ok' | 'failed' | 'skipped';
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'Why it failed, or what was found' }) detail!: string;
}

export class DefaultRetentionDto {
  @ApiProperty({ enum: LockMode, enumName: 'LockMode' }) mode!: LockMode;
  @ApiProperty() days!: number;
}

export class PreflightReportDto {
  @ApiProperty({ description: 'Every check passed (Object Lock included)' }) ok!: boolean;
  @ApiProperty({ type: [PreflightCheckDto] }) checks!: PreflightCheckDto[];
  @ApiPropertyOptional({ type: DefaultRetentionDto }) defaultRetention?: DefaultRetentionDto;

  static from(r: PreflightReport): PreflightReportDto {
    return {
      ok: r.ok,
      checks: r.checks.map((c) => ({ id: c.id, name: c.name, status: c.status, ok: c.ok, detail: c.detail })),
      ...(r.defaultRetention ? { defaultRetention: r.defaultRetention as DefaultRetentionDto } : {}),
    };
  }
}

export class LastTestDto {
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ type: [PreflightCheckDto] }) checks!: PreflightCheckDto[];
}

export class BackupRunErrorDto {
  @ApiPropertyOptional() path?: string;
  @ApiPropertyOptional() key?: string;
  @ApiProperty() message!: string;
}

export class BackupRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) targetId!: string;
  @ApiProperty() targetName!: string;
  @ApiProperty({ enum: RunTrigger, enumName: 'RunTrigger' }) trigger!: RunTrigger;
  @ApiProperty({ enum: RunState, enumName: 'RunState' }) state!: RunState;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ description: 'Files uploaded' }) files!: number;
  @ApiProperty({ description: 'Files already on the target (same content, a twin card)' }) filesSkipped!: number;
  @ApiProperty() bytes!: number;
  @ApiProperty({ type: Number, nullable: true }) durationSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'MB/s (10^6 bytes) over the run' }) throughputMBps!: number | null;
  @ApiProperty() errorCount!: number;
  @ApiProperty({ type: [BackupRunErrorDto], description: 'The first 100' }) errors!: BackupRunErrorDto[];
  @ApiProperty({ type: String, nullable: true }) message!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'A nightly run pauses here' }) windowEnd!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;

  static from(r: BackupRunEntity, targetName: string): BackupRunDto {
    const end = r.finishedAt ?? (r.state === RunState.Running ? new Date() : r.updatedAt);
    const duration = r.startedAt ? Math.max(0, (end.getTime() - r.startedAt.getTime()) / 1000) : null;
    const bytes = Number(r.bytes);
    return {
      id: r.id,
      targetId: r.targetId,
      targetName,
      trigger: r.trigger,
      state: r.state,
      startedAt: r.startedAt?.toISOString() ?? null,
      finishedAt: r.finishedAt?.toISOString() ?? null,
      files: r.files,
      filesSkipped: r.filesSkipped,
      bytes,
      durationSeconds: duration === null ? null : Math.round(duration * 10) / 10,
      throughputMBps: duration ? Math.round((bytes / 1e6 / duration) * 10) / 10 : null,
      errorCount: r.errorCount,
      errors: r.errors ?? [],
      message: r.message,
      windowEnd: r.windowEnd?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  }
}

export type TargetHealth = 'ok' | 'failing' | 'untested';

export class TargetDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TargetKind, enumName: 'TargetKind' }) kind!: TargetKind;
  @ApiPropertyOptional() endpoint?: string;
  @ApiPropertyOptional() region?: string;
  @ApiPropertyOptional() bucket?: string;
  @ApiPropertyOptional() prefix?: string;
  @ApiPropertyOptional() pathStyle?: boolean;
  @ApiPropertyOptional() storageClass?: string;
  @ApiPropertyOptional({ description: 'The last 4 characters of the access key id ("…0001"); never the secret' }) accessKeyId?: string;
  @ApiProperty({ description: 'A secret key is stored (encrypted) or read from a file' }) hasSecret!: boolean;
  @ApiProperty({ description: 'A separate maintenance credential (used only by expiry) is stored' }) hasMaintenanceCredential!: boolean;
  @ApiProperty({ enum: ['stored', 'file'], nullable: true, type: String }) secretSource!: 'stored' | 'file' | null;
  @ApiPropertyOptional({ description: 'The secret key file on the server, when one is used' }) secretAccessKeyFile?: string;
  @ApiPropertyOptional({ description: 'Disk target: the folder on the NAS' }) path?: string;
  @ApiProperty({ description: 'Disk target: the drive leaves the building in turns (counts as off-site)' }) rotatesOffsite!: boolean;
  @ApiProperty({ description: 'Disk target: a drive that is unplugged at times (away = waiting, not failing)' }) removable!: boolean;
  @ApiProperty({
    enum: ['present', 'away'],
    nullable: true,
    type: String,
    description: "Disk target: whether its folder holds the drive's identity marker now",
  })
  drive!: 'present' | 'away' | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Disk target: when its drive was last found' })
  lastSeenAt!: string | null;
  @ApiProperty({ enum: LockMode, enumName: 'LockMode' }) lockMode!: LockMode;
  @ApiProperty({ description: 'Uploads are locked (Object Lock) and read back' }) immutable!: boolean;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: LastTestDto, nullable: true }) lastTest!: LastTestDto | null;
  @ApiProperty({ type: BackupRunDto, nullable: true }) lastRun!: BackupRunDto | null;
  @ApiProperty({ enum: ['ok', 'failing', 'untested'] }) health!: TargetHealth;

  static from(
    t: OffsiteTargetEntity,
    lastRun: BackupRunEntity | null,
    hasMaintenanceCredential = false,
    drivePresent: boolean | null = null,
  ): TargetDto {
    const s = t.settings as TargetSettings;
    const report = t.lastTestReport as PreflightReport | null;
    const runBad = lastRun && (lastRun.state === RunState.Failed || (lastRun.state === RunState.Completed && lastRun.errorCount > 0));
    const health: TargetHealth = t.lastTestOk === null ? 'untested' : !t.lastTestOk || runBad ? 'failing' : 'ok';
    return {
      id: t.id,
      name: t.name,
      kind: t.kind,
      ...(t.kind === TargetKind.S3
        ? {
            endpoint: s.endpoint,
            region: s.region,
            bucket: s.bucket,
            prefix: s.prefix,
            pathStyle: s.pathStyle,
            storageClass: s.storageClass,
            accessKeyId: s.accessKeyIdHint,
            secretAccessKeyFile: s.secretAccessKeyFile,
          }
        : { path: s.path }),
      hasSecret: t.kind === TargetKind.S3,
      hasMaintenanceCredential,
      secretSource: t.kind !== TargetKind.S3 ? null : s.secretAccessKeyFile ? 'file' : 'stored',
      rotatesOffsite: t.rotatesOffsite,
      removable: t.removable,
      drive: drivePresent === null ? null : drivePresent ? 'present' : 'away',
      lastSeenAt: t.lastSeenAt?.toISOString() ?? null,
      lockMode: t.lockMode,
      immutable: t.immutable,
      enabled: t.enabled,
      lastTest:
        t.lastTestAt && report
          ? { at: t.lastTestAt.toISOString(), ok: Boolean(t.lastTestOk), checks: PreflightReportDto.from(report).checks }
          : null,
      lastRun: lastRun ? BackupRunDto.from(lastRun, t.name) : null,
      health,
    };
  }
}

export class TargetTestedDto {
  @ApiProperty({ type: TargetDto }) target!: TargetDto;
  @ApiProperty({ type: PreflightReportDto }) test!: PreflightReportDto;
}

export class TargetUpdatedDto {
  @ApiProperty({ type: TargetDto }) target!: TargetDto;
  @ApiProperty({
    type: PreflightReportDto,
    nullable: true,
    description: 'Null when the edit did not touch the connection (rename, disable)',
  })
  test!: PreflightReportDto | null;
}

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u;

export class CreateTargetDto {
  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(NAME, { message: 'name: letters, digits, spaces, dots, hyphens and underscores' })
  name!: string;
  @ApiProperty({ enum: TargetKind, enumName: 'TargetKind' }) @IsEnum(TargetKind) kind!: TargetKind;
  @ApiPropertyOptional({ description: 'S3: omit for AWS; e.g. https://s3.eu-central-003.backblazeb2.com' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  endpoint?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) region?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(63) bucket?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) prefix?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() pathStyle?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) storageClass?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(256) accessKeyId?: string;
  @ApiPropertyOptional({ description: 'Stored encrypted; never returned' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  secretAccessKey?: string;
  @ApiPropertyOptional({ description: 'Or: a file on the server holding the secret key, read at every use' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  secretAccessKeyFile?: string;
  @ApiPropertyOptional({ description: 'Disk target: an absolute folder on the NAS' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  path?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() rotatesOffsite?: boolean;
  @ApiPropertyOptional({ description: 'Disk target: a drive that is unplugged at times (the rotated USB drive)' })
  @IsOptional()
  @IsBoolean()
  removable?: boolean;
  @ApiPropertyOptional({ enum: LockMode, enumName: 'LockMode' }) @IsOptional() @IsEnum(LockMode) lockMode?: LockMode;
  @ApiPropertyOptional({ description: 'Lock every upload (default: on for S3, off for disk)' })
  @IsOptional()
  @IsBoolean()
  immutable?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateTargetDto extends PartialType(OmitType(CreateTargetDto, ['kind'] as const)) {}

export class BackupSettingsDto implements BackupSettings {
  @ApiProperty({ description: 'Cron, 5 fields, in the time zone', example: '0 1 * * *' }) @IsString() @MaxLength(100) schedule!: string;
  @ApiProperty({ example: 'Europe/Berlin' }) @IsString() @MaxLength(64) timezone!: string;
  @ApiProperty({ type: String, nullable: true, example: '07:00', description: 'A nightly run pauses here and resumes the next night' })
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'windowEnd: "HH:MM" (24 h) or null' })
  windowEnd!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'MB/s for every run; null: no cap' })
  @ValidateIf((_, v) => v !== null)
  @IsNumber()
  @Min(0.1)
  @Max(100_000)
  bandwidthMBps!: number | null;
  @ApiProperty({ description: 'Start uploading as soon as a card is verified' }) @IsBoolean() onIngest!: boolean;
}

export class StartBackupDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'One target; default: every enabled target' })
  @IsOptional()
  @IsUUID()
  targetId?: string;
}

export class RunQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() targetId?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class FilesBytesDto {
  @ApiProperty() files!: number;
  @ApiProperty() bytes!: number;
}

export class TargetStatusDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TargetKind, enumName: 'TargetKind' }) kind!: TargetKind;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() immutable!: boolean;
  @ApiProperty({ enum: ['ok', 'failing', 'untested'] }) health!: TargetHealth;
  @ApiProperty({ type: BackupRunDto, nullable: true }) lastRun!: BackupRunDto | null;
  @ApiProperty({ type: BackupRunDto, nullable: true }) activeRun!: BackupRunDto | null;
}

export class BackupStatusDto {
  @ApiProperty({ type: [TargetStatusDto] }) targets!: TargetStatusDto[];
  @ApiProperty({ type: FilesBytesDto, description: 'Verified locally, not yet off-site' }) pending!: FilesBytesDto;
  @ApiProperty({ type: FilesBytesDto, description: 'Off-site, lock not (yet) proven' }) offsite!: FilesBytesDto;
  @ApiProperty({ type: FilesBytesDto, description: 'Off-site with the lock read back in force' }) immutable!: FilesBytesDto;
}
