import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { IngestService } from '@studiovault/ingest';
import { VolumesService } from '@studiovault/volumes';
import { Roles } from '../auth/access.decorators';
import { SafeToFormatRuleDto, SameDeviceOverrideDto } from '../dtos/card.dto';
import { VolumeDto } from '../dtos/volume.dto';

/** Studio-wide settings an admin owns. */
@ApiTags('settings')
@Controller()
export class SettingsController {
  constructor(
    private readonly ingest: IngestService,
    private readonly volumes: VolumesService,
  ) {}

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
    return (await this.volumes.setSameDeviceOverride(dto.allow)).map(VolumeDto.from);
  }
}
