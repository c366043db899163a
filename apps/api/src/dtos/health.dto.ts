import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthDatabaseDto {
  @ApiProperty({ enum: ['up', 'down'] }) status!: 'up' | 'down';
  @ApiPropertyOptional() message?: string;
}

export class HealthVolumeDto {
  @ApiProperty({ enum: ['primary', 'mirror'] }) role!: string;
  @ApiProperty({ enum: ['online', 'offline', 'full'], description: 'Checked now: identity marker, device, free space' }) state!:
    'online' | 'offline' | 'full';
  @ApiProperty({ type: String, nullable: true, description: 'Why it is offline (marker missing, root missing, device changed)' })
  reason!: string | null;
  @ApiProperty({ type: Number, nullable: true }) freeBytes!: number | null;
  @ApiProperty({ type: Number, nullable: true }) totalBytes!: number | null;
}

export class HealthJobsDto {
  @ApiProperty({ description: 'This process has started its job queue' }) started!: boolean;
  @ApiProperty({ type: String, nullable: true, enum: ['producer', 'worker'], description: 'worker: jobs run in this process' }) role!:
    'producer' | 'worker' | null;
  @ApiProperty({ description: 'The queue tables answered' }) reachable!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'Jobs due now and not yet taken by a worker' }) queued!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Age of the oldest of them, in seconds' }) oldestQueuedSeconds!: number | null;
  @ApiPropertyOptional() message?: string;
}

export class HealthDto {
  @ApiProperty({
    enum: ['ok', 'degraded', 'error'],
    description:
      'ok; degraded (HTTP 200): serving, but a volume is offline or full, or the job queue is away; error (HTTP 503): the database is down',
  })
  status!: 'ok' | 'degraded' | 'error';
  @ApiProperty({ type: [String], description: 'What needs a person, one sentence each' }) problems!: string[];
  @ApiProperty({ type: HealthDatabaseDto }) database!: HealthDatabaseDto;
  @ApiProperty({ type: [HealthVolumeDto] }) volumes!: HealthVolumeDto[];
  @ApiProperty({ type: HealthJobsDto }) jobs!: HealthJobsDto;
  @ApiProperty({ format: 'date-time' }) checkedAt!: string;
}
