import { All, Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Role } from '@studiovault/contracts';
import { IngestService, TusUploads } from '@studiovault/ingest';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import { SealDto, SealResultDto } from '../dtos/card.dto';

/** The tus 1.0 endpoint at /files (outside /api: no JSON body limit) and the seal step. */
@ApiTags('uploads')
@Controller()
export class UploadsController {
  constructor(
    private readonly tus: TusUploads,
    private readonly ingest: IngestService,
  ) {}

  @All(['files', 'files/{*rest}'])
  @Roles(Role.Editor)
  @ApiExcludeEndpoint()
  async tusEndpoint(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res);
  }

  @Post('uploads/:id/seal')
  @Roles(Role.Editor)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'sealUpload',
    summary: "Seal a received file with the card's hashes: checked against what the server wrote, then named and recorded",
  })
  @ApiOkResponse({ type: SealResultDto })
  @ApiNotFound()
  @ApiConflict('UPLOAD_INCOMPLETE', 'CONFLICT')
  async seal(@Param('id') id: string, @Body() dto: SealDto): Promise<SealResultDto> {
    return this.ingest.seal(id, dto);
  }
}
