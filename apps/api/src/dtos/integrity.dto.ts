import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf } from 'class-validator';
import { DamageKind, FindingOutcome, FindingSource, VolumeRole } from '@studiovault/contracts';
import type { Finding } from '@studiovault/ingest';
import type { ScrubPass, ScrubSettings, ScrubStatus } from '@studiovault/integrity';

export class FindingDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The file (asset) id' }) assetId!: string;
  @ApiProperty({ enum: VolumeRole, enumName: 'VolumeRole', nullable: true }) volume!: VolumeRole | null;
  @ApiProperty({ enum: DamageKind, enumName: 'DamageKind', description: 'bytes differ (mismatch), missing, shorter, longer, read error' })
  kind!: DamageKind;
  @ApiProperty({ enum: FindingSource, enumName: 'FindingSource' }) foundBy!: FindingSource;
  @ApiProperty({ type: String, nullable: true }) detail!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) foundAt!: string;
  @ApiProperty({ enum: FindingOutcome, enumName: 'FindingOutcome' }) outcome!: FindingOutcome;
  @ApiProperty({ type: String, nullable: true, description: 'primary, mirror or offsite: where the good bytes came from' })
  healedFrom!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Where the damaged bytes went, relative to the volume root' })
  quarantinePath!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolvedAt!: string | null;

  static from(f: Finding): FindingDto {
    return {
      id: f.id,
      assetId: f.assetId,
      volume: f.volume,
      kind: f.kind,
      foundBy: f.foundBy,
      detail: f.detail,
      foundAt: f.foundAt.toISOString(),
      outcome: f.outcome,
      healedFrom: f.healedFrom,
      quarantinePath: f.quarantinePath,
      resolvedAt: f.resolvedAt?.toISOString() ?? null,
    };
  }
}

export class FindingsDto {
  @ApiProperty({ type: [FindingDto] }) items!: FindingDto[];
}

export class ReportCopyDto {
  @ApiProperty({ enum: VolumeRole, enumName: 'VolumeRole', description: 'The volume whose copy was read' })
  @IsEnum(VolumeRole)
  volume!: VolumeRole;
  @ApiProperty({ enum: DamageKind, enumName: 'DamageKind' })
  @IsEnum(DamageKind)
  kind!: DamageKind;
  @ApiPropertyOptional({ description: 'What was read (hashes, sizes)' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  detail?: string;
}

export class ScrubSettingsDto {
  @ApiProperty({ description: 'Every local copy is re-read at least once in this many days (default 30)' }) cycleDays!: number;
  @ApiProperty({ description: 'I/O cap over both volumes, MB/s; 0: uncapped' }) rateMBps!: number;
  @ApiProperty({ type: String, nullable: true, description: '"HH:MM" (server time zone): no scheduled scrub from here…' })
  quietStart!: string | null;
  @ApiProperty({ type: String, nullable: true, description: '…to here' }) quietEnd!: string | null;
  @ApiProperty({ description: 'Days damaged bytes stay in quarantine before they are deleted (audited)' }) quarantineDays!: number;
  @ApiProperty({ description: 'Files a scrub slice reads at most before it yields' }) sliceFiles!: number;
  @ApiProperty({ description: 'MB a scrub slice reads at most before it yields' }) sliceMB!: number;

  static from(s: ScrubSettings): ScrubSettingsDto {
    return { ...s };
  }
}

export class UpdateScrubSettingsDto {
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) cycleDays?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) rateMBps?: number;
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/)
  quietStart?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/)
  quietEnd?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) quarantineDays?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) sliceFiles?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) sliceMB?: number;
}

export class StartScrubDto {
  @ApiPropertyOptional({ description: "Only this project's copies" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  project?: string;
}

export class ScrubPassDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['schedule', 'manual'] }) trigger!: 'schedule' | 'manual';
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) state!: 'running' | 'completed' | 'failed';
  @ApiProperty({ type: String, format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty() filesTotal!: number;
  @ApiProperty() bytesTotal!: number;
  @ApiProperty() filesDone!: number;
  @ApiProperty() bytesDone!: number;
  @ApiProperty() findings!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the pass waits (an ingest, a restore, quiet hours)' })
  pausedReason!: string | null;

  static from(p: ScrubPass): ScrubPassDto {
    return {
      id: p.id,
      trigger: p.trigger,
      projectId: p.projectId,
      state: p.state,
      startedAt: p.startedAt.toISOString(),
      finishedAt: p.finishedAt?.toISOString() ?? null,
      filesTotal: p.filesTotal,
      bytesTotal: p.bytesTotal,
      filesDone: p.filesDone,
      bytesDone: p.bytesDone,
      findings: p.findings,
      pausedReason: p.pausedReason,
    };
  }
}

export class ScrubCoverageDto {
  @ApiProperty() cycleDays!: number;
  @ApiProperty({ description: 'Local copies on online volumes' }) copies!: number;
  @ApiProperty({ description: 'Of them, re-read by the scrub within the cycle' }) scrubbedInCycle!: number;
  @ApiProperty({ description: 'Re-read from the device within the cycle (scrub or ingest verification)' }) checkedInCycle!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) oldestCheckAt!: string | null;
}

export class ScrubStatusDto {
  @ApiProperty({ type: ScrubSettingsDto }) settings!: ScrubSettingsDto;
  @ApiProperty({ type: ScrubPassDto, nullable: true }) running!: ScrubPassDto | null;
  @ApiProperty({ type: ScrubPassDto, nullable: true }) last!: ScrubPassDto | null;
  @ApiProperty({ type: ScrubCoverageDto }) coverage!: ScrubCoverageDto;
  @ApiProperty({ description: 'Findings not healed yet (open, or no good copy)' }) openFindings!: number;
  @ApiProperty({ type: [FindingDto], description: 'The latest findings' }) findings!: FindingDto[];

  static from(s: ScrubStatus): ScrubStatusDto {
    return {
      settings: ScrubSettingsDto.from(s.settings),
      running: s.running ? ScrubPassDto.from(s.running) : null,
      last: s.last ? ScrubPassDto.from(s.last) : null,
      coverage: { ...s.coverage, oldestCheckAt: s.coverage.oldestCheckAt ? new Date(s.coverage.oldestCheckAt).toISOString() : null },
      openFindings: s.openFindings,
      findings: s.findings.map(FindingDto.from),
    };
  }
}
