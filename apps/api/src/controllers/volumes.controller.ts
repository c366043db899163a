import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { VolumesService } from '@studiovault/volumes';
import { Roles } from '../auth/access.decorators';
import { VolumeDto } from '../dtos/volume.dto';

@ApiTags('volumes')
@Controller('volumes')
export class VolumesController {
  constructor(private readonly volumes: VolumesService) {}

  @Get()
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listVolumes', summary: 'The primary and mirror volumes and their state' })
  @ApiOkResponse({ type: [VolumeDto] })
  async list(): Promise<VolumeDto[]> {
    return (await this.volumes.list()).map(VolumeDto.from);
  }
}
