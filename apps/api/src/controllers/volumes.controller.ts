import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { VolumesService } from '@studiovault/volumes';
import { Roles } from '../auth/access.decorators';
import { AdoptVolumeDto, VolumeDto } from '../dtos/volume.dto';

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

  @Post('check')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'checkVolumes',
    summary: "Check every volume's identity marker and device now (as the 30 s check does); a volume that came back is caught up at once",
  })
  @ApiOkResponse({ type: [VolumeDto] })
  async check(): Promise<VolumeDto[]> {
    return (await this.volumes.check()).map(VolumeDto.from);
  }

  @Post('adopt')
  @HttpCode(200)
  @Roles(Role.Admin)
  @ApiOperation({
    operationId: 'adoptVolume',
    summary:
      "Take the disk now at a volume's root as that volume (the right disk on a new device number, a root moved by hand): writes a new identity marker and records its device; audited",
  })
  @ApiOkResponse({ type: [VolumeDto] })
  async adopt(@Body() dto: AdoptVolumeDto): Promise<VolumeDto[]> {
    return (await this.volumes.adopt(dto.role)).map(VolumeDto.from);
  }
}
