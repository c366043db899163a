import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError } from '@studiovault/common';
import { ErrorCode, FindingSource, Role } from '@studiovault/contracts';
import { CopyDamageService, IngestService } from '@studiovault/ingest';
import { ScrubService } from '@studiovault/integrity';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import {
  FindingDto,
  FindingsDto,
  ReportCopyDto,
  ScrubPassDto,
  ScrubSettingsDto,
  ScrubStatusDto,
  StartScrubDto,
  UpdateScrubSettingsDto,
} from '../dtos/integrity.dto';

/** Scrub passes, their settings, and damage reports from anything that read a copy. */
@ApiTags('integrity')
@Controller()
export class IntegrityController {
  constructor(
    private readonly scrub: ScrubService,
    private readonly damage: CopyDamageService,
    private readonly ingest: IngestService,
  ) {}

  @Get('scrub/status')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getScrubStatus', summary: "The scrub's progress, the cycle's coverage and the latest findings" })
  @ApiOkResponse({ type: ScrubStatusDto })
  async status(): Promise<ScrubStatusDto> {
    return ScrubStatusDto.from(await this.scrub.status());
  }

  @Post('scrub/runs')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'startScrub', summary: 'Start a scrub pass over every local copy (of one project) now; audited' })
  @ApiOkResponse({ type: ScrubPassDto })
  @ApiConflict()
  async start(@Body() dto: StartScrubDto): Promise<ScrubPassDto> {
    return ScrubPassDto.from(await this.scrub.start(dto.project));
  }

  @Get('settings/scrub')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getScrubSettings', summary: 'Scrub cycle, I/O cap, quiet hours, quarantine days' })
  @ApiOkResponse({ type: ScrubSettingsDto })
  async getSettings(): Promise<ScrubSettingsDto> {
    return ScrubSettingsDto.from(await this.scrub.settings());
  }

  @Put('settings/scrub')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'setScrubSettings', summary: 'Change the scrub settings (audited)' })
  @ApiOkResponse({ type: ScrubSettingsDto })
  async setSettings(@Body() dto: UpdateScrubSettingsDto): Promise<ScrubSettingsDto> {
    return ScrubSettingsDto.from(await this.scrub.setSettings(dto));
  }

  @Post('assets/:id/copies/report')
  @HttpCode(200)
  @Roles(Role.Editor)
  @ApiOperation({
    operationId: 'reportCopyDamage',
    summary: 'Report a local copy that did not match when read (CLI restore): the server marks it, the file is at risk, the heal is queued',
  })
  @ApiOkResponse({ type: FindingDto })
  @ApiNotFound()
  async report(@Param('id') id: string, @Body() dto: ReportCopyDto): Promise<FindingDto> {
    await this.asset(id);
    return FindingDto.from(
      await this.damage.report({ assetId: id, volume: dto.volume, kind: dto.kind, foundBy: FindingSource.Cli, detail: dto.detail }),
    );
  }

  @Get('assets/:id/findings')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listFileFindings', summary: "A file's history of damage found and healed" })
  @ApiOkResponse({ type: FindingsDto })
  @ApiNotFound()
  async findings(@Param('id') id: string): Promise<FindingsDto> {
    await this.asset(id);
    return { items: (await this.damage.findings({ assetIds: [id] })).map(FindingDto.from) };
  }

  private async asset(id: string): Promise<void> {
    if (!/^[1-9]\d{0,17}$/.test(id) || !(await this.ingest.assetExists(id))) throw new AppError(ErrorCode.NotFound, 'No such file');
  }
}
