import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AlertsService, ChannelsService } from '@studiovault/alerts';
import { Role } from '@studiovault/contracts';
import { ApiNotFound, Roles } from '../auth/access.decorators';
import {
  AlertChannelCreatedDto,
  AlertChannelDto,
  AlertSettingsDto,
  AlertTestResultDto,
  CreateAlertChannelDto,
  PassResultDto,
  ProblemDto,
  UpdateAlertChannelDto,
  UpdateAlertSettingsDto,
} from '../dtos/alerts.dto';

/** What needs a person now: every signed-in role sees it (the portal's banner). */
@ApiTags('alerts')
@Controller('problems')
export class ProblemsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listProblems', summary: 'Open problems (at-risk files, offline volumes, failing targets, drills, drives)' })
  @ApiOkResponse({ type: [ProblemDto] })
  async list(): Promise<ProblemDto[]> {
    return (await this.alerts.openProblems()).map(ProblemDto.from);
  }

  @Get('history')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'listProblemHistory', summary: 'The last 50 problems, open and cleared' })
  @ApiOkResponse({ type: [ProblemDto] })
  async history(): Promise<ProblemDto[]> {
    return (await this.alerts.recentProblems()).map(ProblemDto.from);
  }
}

/** Alert channels and thresholds: admin only. No response carries an SMTP password, webhook URL path or secret (except a generated secret, once). */
@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly channels: ChannelsService,
  ) {}

  @Post('check')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'checkProblems', summary: 'Run the problem detector and send due alerts now (as the 30 s pass does)' })
  @ApiOkResponse({ type: PassResultDto })
  check(): Promise<PassResultDto> {
    return this.alerts.pass();
  }

  @Get('channels')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'listAlertChannels', summary: 'Alert channels with their last delivery and last error' })
  @ApiOkResponse({ type: [AlertChannelDto] })
  async list(): Promise<AlertChannelDto[]> {
    const counts = await this.alerts.deliveryCounts();
    return (await this.channels.list()).map((c) => AlertChannelDto.from(c, counts.get(c.id)));
  }

  @Post('channels')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'createAlertChannel', summary: 'Add an e-mail (SMTP) or webhook channel' })
  @ApiCreatedResponse({ type: AlertChannelCreatedDto })
  async create(@Body() dto: CreateAlertChannelDto): Promise<AlertChannelCreatedDto> {
    const { channel, generatedSecret } = await this.channels.create(dto);
    return { channel: AlertChannelDto.from(channel), secret: generatedSecret };
  }

  @Patch('channels/:name')
  @Roles(Role.Admin)
  @ApiNotFound()
  @ApiOperation({ operationId: 'updateAlertChannel', summary: 'Enable, disable, or switch a channel to the daily digest (by name or id)' })
  @ApiOkResponse({ type: AlertChannelDto })
  async update(@Param('name') name: string, @Body() dto: UpdateAlertChannelDto): Promise<AlertChannelDto> {
    return AlertChannelDto.from(await this.channels.update(name, dto));
  }

  @Post('channels/:name/test')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiNotFound()
  @ApiOperation({ operationId: 'testAlertChannel', summary: 'Send a test alert now; the outcome is kept on the channel' })
  @ApiOkResponse({ type: AlertTestResultDto })
  test(@Param('name') name: string): Promise<AlertTestResultDto> {
    return this.alerts.test(name);
  }

  @Delete('channels/:name')
  @HttpCode(204)
  @Roles(Role.Admin)
  @ApiNotFound()
  @ApiOperation({ operationId: 'deleteAlertChannel', summary: 'Remove a channel (by name or id)' })
  @ApiNoContentResponse({ description: 'Removed' })
  async remove(@Param('name') name: string): Promise<void> {
    await this.channels.remove(name);
  }

  @Get('settings')
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'getAlertSettings',
    summary: 'Thresholds: low space, target down, off-site lag, drill overdue, drive reminder, digest hour',
  })
  @ApiOkResponse({ type: AlertSettingsDto })
  settings(): Promise<AlertSettingsDto> {
    return this.alerts.settings();
  }

  @Put('settings')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'updateAlertSettings', summary: 'Change thresholds (omitted ones keep their value)' })
  @ApiOkResponse({ type: AlertSettingsDto })
  setSettings(@Body() dto: UpdateAlertSettingsDto): Promise<AlertSettingsDto> {
    return this.alerts.setSettings(dto);
  }
}
