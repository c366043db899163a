import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '@studiovault/audit';
import { Role } from '@studiovault/contracts';
import { Roles } from '../auth/access.decorators';
import { AuditEventDto, AuditListDto, AuditQueryDto } from '../dtos/audit.dto';

@ApiTags('audit')
@Controller('audit')
@Roles(Role.Admin)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ operationId: 'listAuditEvents', summary: 'The audit log, newest first' })
  @ApiOkResponse({ type: AuditListDto })
  async list(@Query() q: AuditQueryDto): Promise<AuditListDto> {
    const { items, total } = await this.audit.list({ limit: q.limit ?? 50, offset: q.offset ?? 0, action: q.action });
    return { items: items.map(AuditEventDto.from), total };
  }
}
