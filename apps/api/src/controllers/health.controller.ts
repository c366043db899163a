import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/access.decorators';
import { HealthDto } from '../dtos/health.dto';
import { HealthService } from '../ops/health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /**
   * Readiness: 503 only when the database is down (nothing can be served). A volume offline (a
   * pulled USB disk) or the job queue away is "degraded" with HTTP 200: restarting the server
   * would not bring a disk back, and the portal must stay up to say what is wrong.
   */
  @Get()
  @Public()
  @ApiOperation({ operationId: 'getHealth', summary: 'Readiness: the database, each volume, the job queue' })
  @ApiOkResponse({ type: HealthDto, description: 'ok, or degraded (a volume offline or full, the job queue away) with the details' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The database is down' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const h = await this.health.check();
    if (h.status === 'error') res.status(503);
    return h;
  }

  @Get('live')
  @Public()
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
