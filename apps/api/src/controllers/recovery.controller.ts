import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { TargetsService } from '@studiovault/backup';
import { Role } from '@studiovault/contracts';
import { DrillService, RestoreService, RetentionService, restorePath } from '@studiovault/recovery';
import { Roles } from '../auth/access.decorators';
import {
  DrillDto,
  DrillSettingsDto,
  DrillStartedDto,
  ExpiryPreviewDto,
  ExpiryStateDto,
  FileContentQueryDto,
  LegalHoldDto,
  LegalHoldStateDto,
  LimitQueryDto,
  MaintenanceCredentialDto,
  RestoreDto,
  RestoreFileDto,
  RestorePlanDto,
  RestorePlanQueryDto,
  RetentionPoliciesDto,
  RetentionPolicyDto,
  StartRestoreDto,
} from '../dtos/recovery.dto';
import { bigintIdPipe, uuidPipe } from './pipes';

/** Restores: editors restore and download; the admin restores into folders on the NAS. */
@ApiTags('restore')
@Controller()
export class RestoreController {
  constructor(private readonly restores: RestoreService) {}

  @Get('projects/:slug/restore-plan')
  @Roles(Role.Editor)
  @ApiOperation({ operationId: 'getRestorePlan', summary: 'The files a restore of a project (card, glob, date) covers' })
  @ApiOkResponse({ type: RestorePlanDto })
  async plan(@Param('slug') slug: string, @Query() q: RestorePlanQueryDto): Promise<RestorePlanDto> {
    const plan = await this.restores.plan({ projectSlug: slug, card: q.card, path: q.path, at: q.at ? new Date(q.at) : undefined });
    return {
      projectSlug: plan.project.slug,
      projectName: plan.project.name,
      files: plan.files.map((f) => RestoreFileDto.from(f, restorePath(f))),
      bytes: plan.bytes,
    };
  }

  @Get('assets/:id/content')
  @Roles(Role.Editor)
  @ApiOperation({
    operationId: 'getFileContent',
    summary: "A file's bytes from its best healthy copy (or the one named); X-Checksum-Sha256 carries the catalog's hash",
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The bytes', schema: { type: 'string', format: 'binary' } })
  async content(
    @Param('id', bigintIdPipe) id: string,
    @Query() q: FileContentQueryDto,
    @Res({ passthrough: true }) reply: Response,
  ): Promise<StreamableFile> {
    const { file, source, stream } = await this.restores.download(id, q.from);
    const name = file.path.split('/').pop() ?? 'file';
    reply.setHeader('Content-Type', 'application/octet-stream');
    reply.setHeader('Content-Length', String(file.size));
    reply.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
    reply.setHeader('X-Checksum-Sha256', file.sha256);
    reply.setHeader('X-Restore-Source', source);
    return new StreamableFile(stream);
  }

  @Post('restores')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'startRestore',
    summary: 'Restore into a folder on the NAS (checked first: writable, room, nothing in the way), as a job with progress',
  })
  @ApiOkResponse({ type: RestoreDto })
  @HttpCode(200)
  async start(@Body() dto: StartRestoreDto): Promise<RestoreDto> {
    return RestoreDto.from(
      await this.restores.startFolderRestore({
        projectSlug: dto.project,
        card: dto.card,
        path: dto.path,
        from: dto.from,
        at: dto.at ? new Date(dto.at) : undefined,
        destination: dto.destination,
      }),
    );
  }

  @Get('restores')
  @Roles(Role.Editor)
  @ApiOperation({ operationId: 'listRestores', summary: 'Recent restores to NAS folders' })
  @ApiOkResponse({ type: [RestoreDto] })
  async list(@Query() q: LimitQueryDto): Promise<RestoreDto[]> {
    return (await this.restores.list(q.limit ?? 20)).map(RestoreDto.from);
  }

  @Get('restores/:id')
  @Roles(Role.Editor)
  @ApiOperation({ operationId: 'getRestore', summary: 'One restore: progress (files, bytes, MB/s, ETA) and summary' })
  @ApiOkResponse({ type: RestoreDto })
  async get(@Param('id', uuidPipe) id: string): Promise<RestoreDto> {
    return RestoreDto.from(await this.restores.get(id));
  }
}

/** Restore drills: everyone sees the reports; the admin runs them and sets the schedule. */
@ApiTags('drills')
@Controller('drills')
export class DrillsController {
  constructor(private readonly drills: DrillService) {}

  @Get('settings')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getDrillSettings', summary: 'Drill schedule and sample sizes' })
  @ApiOkResponse({ type: DrillSettingsDto })
  settings(): Promise<DrillSettingsDto> {
    return this.drills.settings();
  }

  @Put('settings')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'setDrillSettings', summary: 'Change the drill schedule (audited)' })
  @ApiOkResponse({ type: DrillSettingsDto })
  setSettings(@Body() dto: DrillSettingsDto): Promise<DrillSettingsDto> {
    return this.drills.setSettings(dto);
  }

  @Post()
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'startDrill', summary: 'Run a restore drill now' })
  @ApiOkResponse({ type: DrillStartedDto })
  async start(): Promise<DrillStartedDto> {
    return { id: await this.drills.start('manual') };
  }

  @Get()
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listDrills', summary: 'Drill history, newest first' })
  @ApiOkResponse({ type: [DrillDto] })
  async list(@Query() q: LimitQueryDto): Promise<DrillDto[]> {
    return (await this.drills.list(q.limit ?? 20)).map((d: unknown) => DrillDto.from(d));
  }

  @Get(':id')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getDrill', summary: 'One drill report, with the files opened and their thumbnails' })
  @ApiOkResponse({ type: DrillDto })
  async get(@Param('id', uuidPipe) id: string): Promise<DrillDto> {
    return DrillDto.from(await this.drills.get(id), true);
  }
}

/** Retention policies, legal holds and expiry: the admin's, everyone may read the policies. */
@ApiTags('retention')
@Controller()
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly targets: TargetsService,
  ) {}

  @Get('retention/policies')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listRetentionPolicies', summary: 'Retention policies per file class (and project type), and the defaults' })
  @ApiOkResponse({ type: RetentionPoliciesDto })
  async policies(): Promise<RetentionPoliciesDto> {
    const { policies, defaults } = await this.retention.policies();
    return { policies: policies.map(RetentionPolicyDto.from), defaults };
  }

  @Put('retention/policies')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'setRetentionPolicy',
    summary: 'Set the policy of a class (and project type): lengthening extends existing locks, shortening affects new uploads only',
  })
  @ApiOkResponse({ type: RetentionPolicyDto })
  async setPolicy(@Body() dto: RetentionPolicyDto): Promise<RetentionPolicyDto> {
    return RetentionPolicyDto.from(await this.retention.upsert({ ...dto, projectType: dto.projectType ?? null }));
  }

  @Delete('retention/policies/:id')
  @HttpCode(204)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'deleteRetentionPolicy', summary: 'Remove a policy (its class falls back to the default for new uploads)' })
  @ApiNoContentResponse({ description: 'Removed' })
  async deletePolicy(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.retention.remove(id);
  }

  @Put('projects/:slug/legal-hold')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'setLegalHold',
    summary: 'Legal hold on a project (a client dispute): S3 legal hold on its objects, no expiry',
  })
  @ApiOkResponse({ type: LegalHoldStateDto })
  legalHold(@Param('slug') slug: string, @Body() dto: LegalHoldDto): Promise<LegalHoldStateDto> {
    return this.retention.setLegalHold(slug, dto.on, dto.reason ?? null);
  }

  @Post('expiry/preview')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'previewExpiry', summary: 'What the policies allow to expire now, as a dry run (counts and bytes)' })
  @ApiOkResponse({ type: ExpiryPreviewDto })
  preview(): Promise<ExpiryPreviewDto> {
    return this.retention.preview();
  }

  @Post('expiry/:id/confirm')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'confirmExpiry',
    summary: 'Act on a preview (under an hour old); every guard rail is checked again per item',
  })
  @ApiOkResponse({ type: ExpiryStateDto })
  confirm(@Param('id', uuidPipe) id: string): Promise<ExpiryStateDto> {
    return this.retention.confirm(id);
  }

  @Get('expiry/:id')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'getExpiry', summary: 'A preview and, once done, what was removed and what was refused' })
  @ApiOkResponse({ type: ExpiryStateDto })
  async expiry(@Param('id', uuidPipe) id: string): Promise<ExpiryStateDto> {
    return this.retention.expiryState(id);
  }

  @Put('targets/:id/maintenance-credential')
  @HttpCode(204)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'setMaintenanceCredential', summary: 'The separate key expiry deletes with (never the nightly writer)' })
  @ApiNoContentResponse({ description: 'Stored encrypted' })
  async setMaintenance(@Param('id', uuidPipe) id: string, @Body() dto: MaintenanceCredentialDto): Promise<void> {
    await this.targets.setMaintenanceCredentials(id, dto);
  }

  @Delete('targets/:id/maintenance-credential')
  @HttpCode(204)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'deleteMaintenanceCredential', summary: 'Forget the maintenance credential' })
  @ApiNoContentResponse({ description: 'Removed' })
  async deleteMaintenance(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.targets.setMaintenanceCredentials(id, null);
  }
}
