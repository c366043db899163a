import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BackupService, TargetsService } from '@studiovault/backup';
import { Role } from '@studiovault/contracts';
import { Roles } from '../auth/access.decorators';
import { CreateTargetDto, PreflightReportDto, TargetDto, TargetTestedDto, TargetUpdatedDto, UpdateTargetDto } from '../dtos/backup.dto';
import { uuidPipe } from './pipes';

/** Off-site targets: admin only. No response ever carries a secret key. */
@ApiTags('targets')
@Controller('targets')
export class TargetsController {
  constructor(
    private readonly targets: TargetsService,
    private readonly backup: BackupService,
  ) {}

  @Get()
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'listTargets', summary: 'Off-site targets with their last test, last run and health' })
  @ApiOkResponse({ type: [TargetDto] })
  async list(): Promise<TargetDto[]> {
    const [last, maintenance] = await Promise.all([this.backup.lastRuns(), this.targets.withMaintenanceCredentials()]);
    const targets = await this.targets.list();
    const drives = await Promise.all(targets.map((t) => this.targets.drivePresent(t)));
    return targets.map((t, i) => TargetDto.from(t, last.get(t.id) ?? null, maintenance.has(t.id), drives[i]));
  }

  @Post()
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'createTarget',
    summary: 'Add a target: its connection test runs first; an immutable target without Object Lock is refused (422)',
  })
  @ApiCreatedResponse({ type: TargetTestedDto })
  async create(@Body() dto: CreateTargetDto): Promise<TargetTestedDto> {
    const { target, test } = await this.targets.create(dto);
    return { target: TargetDto.from(target, null, false, await this.targets.drivePresent(target)), test: PreflightReportDto.from(test!) };
  }

  @Get(':id')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'getTarget', summary: 'One target' })
  @ApiOkResponse({ type: TargetDto })
  async get(@Param('id', uuidPipe) id: string): Promise<TargetDto> {
    const target = await this.targets.get(id);
    return TargetDto.from(
      target,
      (await this.backup.lastRuns()).get(id) ?? null,
      await this.targets.hasMaintenanceCredentials(id),
      await this.targets.drivePresent(target),
    );
  }

  @Patch(':id')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'updateTarget', summary: 'Edit a target (tested again before it is saved); omit the secret to keep it' })
  @ApiOkResponse({ type: TargetUpdatedDto })
  async update(@Param('id', uuidPipe) id: string, @Body() dto: UpdateTargetDto): Promise<TargetUpdatedDto> {
    const { target, test } = await this.targets.update(id, dto);
    return {
      target: TargetDto.from(target, (await this.backup.lastRuns()).get(id) ?? null),
      test: test ? PreflightReportDto.from(test) : null,
    };
  }

  @Post(':id/test')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'testTarget', summary: 'Test the connection: each check by name (reachable … can set retention)' })
  @ApiOkResponse({ type: PreflightReportDto })
  async test(@Param('id', uuidPipe) id: string): Promise<PreflightReportDto> {
    return PreflightReportDto.from(await this.targets.test(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'deleteTarget', summary: 'Delete a target that holds no copies (else 409: disable it instead)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.targets.remove(id);
  }
}
