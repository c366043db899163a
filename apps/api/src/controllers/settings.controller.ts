import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { AuditService } from '@studiovault/audit';
import { CardSealService, IngestService } from '@studiovault/ingest';
import { AllowedFoldersService } from '@studiovault/volumes';
import { Roles } from '../auth/access.decorators';
import { MhlHashFormatDto, SafeToFormatRuleDto, SameDeviceOverrideDto } from '../dtos/card.dto';
import { AllowedFoldersDto, VolumeDto } from '../dtos/volume.dto';

/** Studio-wide settings an admin owns. */
@ApiTags('settings')
@Controller()
export class SettingsController {
  constructor(
    private readonly ingest: IngestService,
    private readonly seal: CardSealService,
    private readonly audit: AuditService,
    private readonly folders: AllowedFoldersService,
  ) {}

  @Get('settings/allowed-folders')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'getAllowedFolders',
    summary:
      'The folders on the server that restores may go into and disk targets may be in (STUDIOVAULT_RESTORE_ROOTS, STUDIOVAULT_DISK_TARGET_ROOTS)',
  })
  @ApiOkResponse({ type: AllowedFoldersDto })
  allowedFolders(): AllowedFoldersDto {
    return this.folders.roots();
  }

  @Get('settings/mhl-hash-format')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getMhlHashFormat', summary: 'Hash format of the ASC MHL generations StudioVault writes' })
  @ApiOkResponse({ type: MhlHashFormatDto })
  async getFormat(): Promise<MhlHashFormatDto> {
    return { format: await this.seal.hashFormat() };
  }

  @Put('settings/mhl-hash-format')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'setMhlHashFormat',
    summary: 'xxh64 (default, no extra read), or xxh128, md5, sha1 (read the copy once more)',
  })
  @ApiOkResponse({ type: MhlHashFormatDto })
  async setFormat(@Body() dto: MhlHashFormatDto): Promise<MhlHashFormatDto> {
    await this.seal.setHashFormat(dto.format);
    await this.audit.record('settings.mhl_hash_format', undefined, { format: dto.format });
    return { format: await this.seal.hashFormat() };
  }

  @Get('settings/safe-to-format')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getSafeToFormatRule', summary: 'What "safe to format" requires in this studio' })
  @ApiOkResponse({ type: SafeToFormatRuleDto })
  async getRule(): Promise<SafeToFormatRuleDto> {
    return { rule: await this.ingest.safeToFormatRule() };
  }

  @Put('settings/safe-to-format')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'setSafeToFormatRule', summary: 'Change what "safe to format" requires (audited)' })
  @ApiOkResponse({ type: SafeToFormatRuleDto })
  async setRule(@Body() dto: SafeToFormatRuleDto): Promise<SafeToFormatRuleDto> {
    await this.ingest.setSafeToFormatRule(dto.rule);
    return { rule: await this.ingest.safeToFormatRule() };
  }

  @Put('volumes/same-device-override')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'setSameDeviceOverride',
    summary: 'Let two volume roots on one device count as two copies (cards then show a warning); audited',
  })
  @ApiOkResponse({ type: [VolumeDto] })
  async override(@Body() dto: SameDeviceOverrideDto): Promise<VolumeDto[]> {
    return (await this.ingest.setSameDeviceOverride(dto.allow)).map(VolumeDto.from);
  }
}
