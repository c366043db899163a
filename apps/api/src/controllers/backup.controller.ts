import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BackupService, TargetsService } from '@studiovault/backup';
import { Role, RunState, RunTrigger } from '@studiovault/contracts';
import { Roles } from '../auth/access.decorators';
import { BackupRunDto, BackupSettingsDto, BackupStatusDto, RunQueryDto, StartBackupDto, TargetDto } from '../dtos/backup.dto';
import { uuidPipe } from './pipes';

/** Off-site runs: everyone sees the status; the admin starts runs and sets the schedule. */
@ApiTags('backup')
@Controller('backup')
export class BackupController {
  constructor(
    private readonly backup: BackupService,
    private readonly targets: TargetsService,
  ) {}

  private async names(): Promise<Map<string, string>> {
    return new Map((await this.targets.list()).map((t) => [t.id, t.name]));
  }

  @Get('settings')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getBackupSettings', summary: 'Nightly schedule, window end, bandwidth cap, start on ingest' })
  @ApiOkResponse({ type: BackupSettingsDto })
  getSettings(): Promise<BackupSettingsDto> {
    return this.backup.settings();
  }

  @Put('settings')
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'setBackupSettings', summary: 'Change the schedule, window or bandwidth cap (audited)' })
  @ApiOkResponse({ type: BackupSettingsDto })
  setSettings(@Body() dto: BackupSettingsDto): Promise<BackupSettingsDto> {
    return this.backup.setSettings(dto);
  }

  @Post('runs')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({ operationId: 'startBackup', summary: 'Run now on every enabled target (or one); a run already going is returned' })
  @ApiOkResponse({ type: [BackupRunDto] })
  async start(@Body() dto: StartBackupDto): Promise<BackupRunDto[]> {
    const runs = await this.backup.startRuns(RunTrigger.Manual, dto.targetId);
    const names = await this.names();
    return runs.map((r) => BackupRunDto.from(r, names.get(r.targetId) ?? ''));
  }

  @Get('runs')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listBackupRuns', summary: 'Recent runs, newest first' })
  @ApiOkResponse({ type: [BackupRunDto] })
  async list(@Query() q: RunQueryDto): Promise<BackupRunDto[]> {
    const names = await this.names();
    return (await this.backup.listRuns({ targetId: q.targetId, limit: q.limit ?? 20 })).map((r) =>
      BackupRunDto.from(r, names.get(r.targetId) ?? ''),
    );
  }

  @Get('runs/:id')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getBackupRun', summary: 'One run: files, bytes, duration, throughput, errors' })
  @ApiOkResponse({ type: BackupRunDto })
  async get(@Param('id', uuidPipe) id: string): Promise<BackupRunDto> {
    const run = await this.backup.getRun(id);
    return BackupRunDto.from(run, (await this.names()).get(run.targetId) ?? '');
  }

  @Get('status')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getBackupStatus', summary: "What is off-site and immutable, what waits, and each target's health" })
  @ApiOkResponse({ type: BackupStatusDto })
  async status(): Promise<BackupStatusDto> {
    const [targets, last, totals] = await Promise.all([this.targets.list(), this.backup.lastRuns(), this.backup.status()]);
    const out: BackupStatusDto = { ...totals, targets: [] };
    for (const t of targets) {
      const dto = TargetDto.from(t, last.get(t.id) ?? null);
      const active = await this.backup.activeRun(t.id);
      out.targets.push({
        id: t.id,
        name: t.name,
        kind: t.kind,
        enabled: t.enabled,
        immutable: t.immutable,
        health: dto.health,
        lastRun: dto.lastRun,
        activeRun: active && active.state !== RunState.Completed ? BackupRunDto.from(active, t.name) : null,
      });
    }
    return out;
  }
}
