import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { AlertSettings, ChannelSettings, PassResult } from '@studiovault/alerts';
import type { AlertChannelEntity, ProblemEntity } from '@studiovault/catalog';

export class ProblemDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Stable identity, e.g. volume:<id>:offline' }) key!: string;
  @ApiProperty({
    description:
      'copy_damaged, heal_failed, volume_offline, volume_low_space, target_failing, offsite_lagging, drill_failed, drill_overdue, lock_not_read_back, drive_reconnect',
  })
  kind!: string;
  @ApiProperty({ enum: ['critical', 'warning'] }) severity!: 'critical' | 'warning';
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'Project, card, volume, target or drill the problem is about', type: 'object', additionalProperties: true })
  subject!: Record<string, unknown>;
  @ApiProperty({ description: 'Files (project/card/path), reasons, roots', type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true, description: 'Portal path where it is fixed' }) link!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) lastSeenAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) clearedAt!: string | null;

  static from(p: ProblemEntity): ProblemDto {
    return {
      id: p.id,
      key: p.key,
      kind: p.kind,
      severity: p.severity,
      title: p.title,
      subject: p.subject,
      details: p.details,
      link: p.link,
      startedAt: p.startedAt.toISOString(),
      lastSeenAt: p.lastSeenAt.toISOString(),
      clearedAt: p.clearedAt?.toISOString() ?? null,
    };
  }
}

export class PassResultDto implements PassResult {
  @ApiProperty({ type: [String], description: 'Keys of the problems raised by this pass' }) raised!: string[];
  @ApiProperty({ type: [String], description: 'Keys of the problems cleared by this pass' }) cleared!: string[];
  @ApiProperty({ description: 'Problems open now (-1: another pass held the lock)' }) open!: number;
}

export class AlertChannelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['email', 'webhook'] }) kind!: 'email' | 'webhook';
  @ApiPropertyOptional() smtpHost?: string;
  @ApiPropertyOptional() smtpPort?: number;
  @ApiPropertyOptional({ description: 'smtps (TLS from the start); otherwise STARTTLS when the server offers it' }) smtpSecure?: boolean;
  @ApiPropertyOptional({ description: 'The SMTP user name (never the password)' }) smtpUser?: string;
  @ApiPropertyOptional() from?: string;
  @ApiPropertyOptional({ type: [String] }) to?: string[];
  @ApiPropertyOptional({ description: "Webhook: the receiver's scheme, host and port (its path may hold a token: never shown)" })
  host?: string;
  @ApiPropertyOptional({ enum: ['json', 'slack', 'discord', 'ntfy'] }) format?: 'json' | 'slack' | 'discord' | 'ntfy';
  @ApiProperty({ description: 'One summary a day instead of an alert per event' }) digest!: boolean;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSentAt!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last delivery error (kept after a later success, with its time)' })
  lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastErrorAt!: string | null;
  @ApiProperty({ description: 'The last attempt failed (no success since the last error)' }) failing!: boolean;
  @ApiProperty({ description: 'Alerts waiting for a retry' }) pendingDeliveries!: number;
  @ApiProperty({ description: 'Alerts given up after every retry failed' }) failedDeliveries!: number;

  static from(c: AlertChannelEntity, counts?: { pending: number; failed: number }): AlertChannelDto {
    const s = c.settings as ChannelSettings;
    return {
      id: c.id,
      name: c.name,
      kind: c.kind,
      ...(c.kind === 'email'
        ? { smtpHost: s.smtpHost, smtpPort: s.smtpPort, smtpSecure: s.smtpSecure, smtpUser: s.smtpUser, from: s.from, to: s.to }
        : { host: s.host, format: s.format }),
      digest: c.digest,
      enabled: c.enabled,
      lastSentAt: c.lastSentAt?.toISOString() ?? null,
      lastError: c.lastError,
      lastErrorAt: c.lastErrorAt?.toISOString() ?? null,
      failing: Boolean(c.lastErrorAt && (!c.lastSentAt || c.lastErrorAt > c.lastSentAt)),
      pendingDeliveries: counts?.pending ?? 0,
      failedDeliveries: counts?.failed ?? 0,
    };
  }
}

export class CreateAlertChannelDto {
  @ApiProperty({ example: 'office' }) @IsString() @MaxLength(64) name!: string;
  @ApiProperty({ enum: ['email', 'webhook'] }) @IsIn(['email', 'webhook']) kind!: 'email' | 'webhook';
  @ApiPropertyOptional({
    description: 'E-mail: smtp://user:password@host:587 (STARTTLS; add ?requireTLS=true to demand it) or smtps://…:465. Stored encrypted.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  smtpUrl?: string;
  @ApiPropertyOptional({ example: 'StudioVault <nas@studio.example>' }) @IsOptional() @IsString() @MaxLength(320) from?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  to?: string[];
  @ApiPropertyOptional({ description: 'Webhook: the receiver URL. Stored encrypted.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;
  @ApiPropertyOptional({ description: 'Webhook: the HMAC-SHA256 signing secret (16+ characters). Omitted: one is made and returned once.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  secret?: string;
  @ApiPropertyOptional({ enum: ['json', 'slack', 'discord', 'ntfy'] }) @IsOptional() @IsIn(['json', 'slack', 'discord', 'ntfy']) format?:
    'json' | 'slack' | 'discord' | 'ntfy';
  @ApiPropertyOptional() @IsOptional() @IsBoolean() digest?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateAlertChannelDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() digest?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class AlertChannelCreatedDto {
  @ApiProperty({ type: AlertChannelDto }) channel!: AlertChannelDto;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The signing secret StudioVault made, shown this once (null when you gave one)',
  })
  secret!: string | null;
}

export class AlertTestResultDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

export class AlertSettingsDto implements AlertSettings {
  @ApiProperty({ description: 'A volume below this free space (or the largest card of the last 30 days) is low' })
  @IsNumber()
  @Min(0)
  lowSpaceGb!: number;
  @ApiProperty({ description: 'A target unreachable this long is failing' }) @IsInt() @Min(1) targetDownMinutes!: number;
  @ApiProperty({ description: 'Files verified but not off-site after this many hours' }) @IsInt() @Min(1) offsiteLagHours!: number;
  @ApiProperty({ description: 'No passed drill within this many days is overdue' }) @IsInt() @Min(1) drillOverdueDays!: number;
  @ApiProperty({ description: 'A removable drive unseen this many days gets a reminder' }) @IsInt() @Min(1) driveReminderDays!: number;
  @ApiProperty({ description: 'Hour (UTC) of the daily digest' }) @IsInt() @Min(0) @Max(23) digestHourUtc!: number;
}

export class UpdateAlertSettingsDto implements Partial<AlertSettings> {
  @ApiPropertyOptional() @IsOptional() @IsNumber() lowSpaceGb?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() targetDownMinutes?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() offsiteLagHours?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() drillOverdueDays?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() driveReminderDays?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() digestHourUtc?: number;
}
