import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../dtos/error.dto';
import { UsersService } from '@studiovault/auth';
import { Role } from '@studiovault/contracts';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import { CreatedPasswordResetDto, CreatedUserDto, CreateUserDto, UpdateUserDto, UserDto } from '../dtos/user.dto';
import { uuidPipe } from './pipes';

@ApiTags('users')
@Controller('users')
@Roles(Role.Admin)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ operationId: 'listUsers', summary: 'Every account of the studio' })
  @ApiOkResponse({ type: [UserDto] })
  async list(): Promise<UserDto[]> {
    return (await this.users.list()).map(UserDto.from);
  }

  @Post()
  @ApiOperation({ operationId: 'createUser', summary: 'Create an account, or invite one (omit password)' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiConflict('EMAIL_TAKEN')
  async create(@Body() dto: CreateUserDto): Promise<CreatedUserDto> {
    const { user, inviteToken } = await this.users.create(dto);
    return { user: UserDto.from(user), inviteToken };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getUser' })
  @ApiNotFound()
  @ApiOkResponse({ type: UserDto })
  async get(@Param('id', uuidPipe) id: string): Promise<UserDto> {
    return UserDto.from(await this.users.get(id));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateUser', summary: 'Change role, name, or disable/enable' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFound()
  @ApiConflict('LAST_ADMIN')
  async update(@Param('id', uuidPipe) id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return UserDto.from(await this.users.update(id, dto));
  }

  @Post(':id/password-reset')
  @ApiOperation({
    operationId: 'createPasswordReset',
    summary: 'Make a one-time password-reset link for a user (24 hours); using it ends all their sessions',
  })
  @ApiCreatedResponse({ type: CreatedPasswordResetDto })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'USER_DISABLED' })
  @ApiNotFound()
  async createPasswordReset(@Param('id', uuidPipe) id: string): Promise<CreatedPasswordResetDto> {
    const { token, expiresAt, user } = await this.users.createPasswordReset(id);
    return { user: UserDto.from(user), resetToken: token, expiresAt: expiresAt.toISOString() };
  }
}
