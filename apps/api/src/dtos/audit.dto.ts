import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { AuditEventEntity } from '@studiovault/catalog';
import { PageQueryDto } from './common.dto';

export class AuditEventDto {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: String, nullable: true }) actorEmail!: string | null;
  @ApiProperty() action!: string;
  @ApiProperty({ type: String, nullable: true }) subjectType!: string | null;
  @ApiProperty({ type: String, nullable: true }) subjectId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;

  static from(e: AuditEventEntity): AuditEventDto {
    return {
      id: e.id,
      at: e.at.toISOString(),
      actorEmail: e.actorEmail,
      action: e.action,
      subjectType: e.subjectType,
      subjectId: e.subjectId,
      details: e.details,
      ip: e.ip,
      requestId: e.requestId,
    };
  }
}

export class AuditListDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty() total!: number;
}

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) action?: string;
}
