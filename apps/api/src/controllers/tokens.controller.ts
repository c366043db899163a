import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokensService } from '@studiovault/auth';
import { Role } from '@studiovault/contracts';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import { CurrentUser } from '../auth/current-actor.decorator';
import { AuthenticatedUser } from '../auth/strategies';
import { ApiTokenDto, CreatedTokenDto, CreateTokenDto } from '../dtos/token.dto';
import { uuidPipe } from './pipes';

/** Personal API tokens of the signed-in user. */
@ApiTags('tokens')
@Controller('tokens')
@Roles(Role.Viewer)
export class TokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @ApiOperation({ operationId: 'listTokens' })
  @ApiOkResponse({ type: [ApiTokenDto] })
  async list(@CurrentUser() auth: AuthenticatedUser): Promise<ApiTokenDto[]> {
    return (await this.tokens.listForUser(auth.actor.userId)).map(ApiTokenDto.from);
  }

  @Post()
  @ApiOperation({ operationId: 'createToken', summary: 'Create a named token; the token is shown once' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiConflict('TOKEN_NAME_TAKEN')
  async create(@CurrentUser() auth: AuthenticatedUser, @Body() dto: CreateTokenDto): Promise<CreatedTokenDto> {
    const { token, entity } = await this.tokens.create(auth.actor.userId, dto.name, dto.expiresAt ? new Date(dto.expiresAt) : undefined);
    return { ...ApiTokenDto.from(entity), token };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeToken' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFound()
  async revoke(@CurrentUser() auth: AuthenticatedUser, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.tokens.revoke(auth.actor.userId, id);
  }
}
