import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsEnum, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ProjectEntity } from '@studiovault/catalog';
import { NAME_MAX, ProjectStatus, ProjectType, SLUG_MAX, SLUG_PATTERN } from '@studiovault/contracts';
import { PageQueryDto } from './common.dto';

export class ProjectDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ type: String, nullable: true }) client!: string | null;
  @ApiProperty({ type: String, format: 'date', nullable: true }) shootDate!: string | null;
  @ApiProperty({ enum: ProjectType, enumName: 'ProjectType' }) type!: ProjectType;
  @ApiProperty({ enum: ProjectStatus, enumName: 'ProjectStatus' }) status!: ProjectStatus;
  @ApiProperty() legalHold!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why the project is held (a client dispute, a case number)' })
  legalHoldReason!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(p: ProjectEntity): ProjectDto {
    return {
      id: p.id,
      name: p.name,
      slug: p.slug,
      client: p.client,
      shootDate: p.shootDate,
      type: p.type,
      status: p.status,
      legalHold: p.legalHold,
      legalHoldReason: p.legalHoldReason ?? null,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
    };
  }
}

export class ProjectListDto {
  @ApiProperty({ type: [ProjectDto] }) items!: ProjectDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class CreateProjectDto {
  @ApiProperty({ maxLength: NAME_MAX })
  @IsString()
  @MinLength(1)
  @MaxLength(NAME_MAX)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;
  @ApiPropertyOptional({ maxLength: SLUG_MAX, pattern: SLUG_PATTERN.source, description: 'Default: made from the name' })
  @IsOptional()
  @IsString()
  @MaxLength(SLUG_MAX)
  @Matches(SLUG_PATTERN, { message: 'slug must be lowercase letters, digits and dashes, not starting or ending with a dash' })
  slug?: string;
  @ApiPropertyOptional({ maxLength: NAME_MAX }) @IsOptional() @IsString() @MaxLength(NAME_MAX) client?: string;
  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @IsDateString({ strict: true })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'shootDate must be YYYY-MM-DD' })
  shootDate?: string;
  @ApiPropertyOptional({ enum: ProjectType, enumName: 'ProjectType' }) @IsOptional() @IsEnum(ProjectType) type?: ProjectType;
}

export class UpdateProjectDto {
  @ApiPropertyOptional({ maxLength: NAME_MAX })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(NAME_MAX)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;
  @ApiPropertyOptional({ maxLength: NAME_MAX, nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(NAME_MAX)
  client?: string | null;
  @ApiPropertyOptional({ format: 'date', nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsDateString({ strict: true })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'shootDate must be YYYY-MM-DD' })
  shootDate?: string | null;
  @ApiPropertyOptional({ enum: ProjectType, enumName: 'ProjectType' }) @IsOptional() @IsEnum(ProjectType) type?: ProjectType;
}

export class ProjectQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ maxLength: 200, description: 'Matches name, slug or client' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;
  @ApiPropertyOptional({ enum: ProjectStatus, enumName: 'ProjectStatus' }) @IsOptional() @IsEnum(ProjectStatus) status?: ProjectStatus;
  @ApiPropertyOptional({ enum: ProjectType, enumName: 'ProjectType' }) @IsOptional() @IsEnum(ProjectType) type?: ProjectType;
}
