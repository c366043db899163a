import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiTokensService, SessionsService, SetupCodeService, UsersService } from '@studiovault/auth';
import { requestContext } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { Role } from '@studiovault/contracts';
import { ApiConflict, Public, Roles } from '../auth/access.decorators';
import { LoginRateLimitGuard, PasswordGuard, ValidBody } from '../auth/login.guards';
import { CurrentUser } from '../auth/current-actor.decorator';
import { AuthenticatedUser } from '../auth/strategies';
import {
  AcceptInviteDto,
  ChangePasswordDto,
  LoginDto,
  ResetPasswordDto,
  SessionDto,
  SetupDto,
  SetupStatusDto,
  TokenLoginDto,
} from '../dtos/auth.dto';
import { ErrorDto } from '../dtos/error.dto';
import { CreatedTokenDto, ApiTokenDto } from '../dtos/token.dto';
import { UserDto } from '../dtos/user.dto';
import { clearSessionCookie, setSessionCookie } from './session-cookie';

const VERSION = '0.1.0';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: ApiTokensService,
    private readonly setupCode: SetupCodeService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('setup')
  @Public()
  @ApiOperation({ operationId: 'getSetupStatus', summary: 'Whether first-run setup is needed' })
  @ApiOkResponse({ type: SetupStatusDto })
  async setupStatus(): Promise<SetupStatusDto> {
    return { needsSetup: await this.users.needsSetup(), version: VERSION };
  }

  @Post('setup')
  @Public()
  @ApiOperation({
    operationId: 'setup',
    summary: 'First-run setup: create the first admin and sign in',
    description: 'Needs the one-time setup code the server printed on its console and log at start (also in <data>/setup-code).',
  })
  @ApiConflict('SETUP_ALREADY_DONE')
  @ApiForbiddenResponse({ type: ErrorDto, description: 'SETUP_CODE_INVALID (missing or wrong setup code)' })
  @ApiOkResponse({ type: SessionDto })
  @HttpCode(200)
  async setup(@Body() dto: SetupDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionDto> {
    const user = await this.setupCode.setup({ email: dto.email, name: dto.name, password: dto.password }, dto.setupCode);
    return this.startSession(user.id, req, res);
  }

  @Post('auth/login')
  @Public()
  @ApiOperation({ operationId: 'login', summary: 'Sign in to the portal (sets the session cookie)' })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'INVALID_CREDENTIALS' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'USER_DISABLED' })
  @ApiOkResponse({ type: SessionDto })
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  @HttpCode(200)
  @UseGuards(ValidBody(LoginDto), LoginRateLimitGuard, PasswordGuard)
  async login(
    @Body() _dto: LoginDto,
    @CurrentUser() auth: AuthenticatedUser,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionDto> {
    return this.startSession(auth.actor.userId, req, res);
  }

  @Post('auth/token')
  @Public()
  @ApiOperation({ operationId: 'createTokenWithPassword', summary: 'Sign in with e-mail and password and get a named API token (the CLI)' })
  @ApiOkResponse({ type: CreatedTokenDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'INVALID_CREDENTIALS' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'USER_DISABLED' })
  @ApiConflict('TOKEN_NAME_TAKEN')
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  @HttpCode(200)
  @UseGuards(ValidBody(TokenLoginDto), LoginRateLimitGuard, PasswordGuard)
  async tokenLogin(@Body() dto: TokenLoginDto, @CurrentUser() auth: AuthenticatedUser): Promise<CreatedTokenDto> {
    return requestContext.run({ ...requestContext.getStore(), actor: { ...auth.actor, via: 'token' } }, async () => {
      const { token, entity } = await this.tokens.create(auth.actor.userId, dto.tokenName);
      return { ...ApiTokenDto.from(entity), token };
    });
  }

  @Post('auth/accept-invite')
  @Public()
  @ApiOperation({ operationId: 'acceptInvite', summary: 'Set a password from an invitation and sign in' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'INVITE_INVALID' })
  @ApiOkResponse({ type: SessionDto })
  @HttpCode(200)
  async acceptInvite(@Body() dto: AcceptInviteDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionDto> {
    const user = await this.users.acceptInvite(dto.token, dto.password);
    return this.startSession(user.id, req, res);
  }

  @Post('auth/reset-password')
  @Public()
  @ApiOperation({
    operationId: 'resetPassword',
    summary: 'Set a new password with a reset link from an admin; ends every session of the account and signs in',
  })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'RESET_INVALID' })
  @ApiOkResponse({ type: SessionDto })
  @HttpCode(200)
  async resetPassword(@Body() dto: ResetPasswordDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionDto> {
    const user = await this.users.resetPassword(dto.token, dto.password);
    return this.startSession(user.id, req, res);
  }

  @Post('auth/password')
  @Roles(Role.Viewer)
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change your own password; your other sessions end, this one stays signed in',
  })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'CURRENT_PASSWORD_WRONG' })
  @HttpCode(204)
  async changePassword(@Body() dto: ChangePasswordDto, @CurrentUser() auth: AuthenticatedUser): Promise<void> {
    await this.users.changePassword(auth.actor.userId, dto.currentPassword, dto.newPassword, auth.actor.sessionId);
  }

  @Get('auth/session')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getSession', summary: 'Who am I; the CSRF token of this session' })
  @ApiOkResponse({ type: SessionDto })
  async session(@CurrentUser() auth: AuthenticatedUser): Promise<SessionDto> {
    const user = await this.users.get(auth.actor.userId);
    return { user: UserDto.from(user), csrfToken: auth.csrfToken, via: auth.actor.via === 'token' ? 'token' : 'session' };
  }

  @Post('auth/logout')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'logout', summary: 'End this portal session' })
  @ApiNoContentResponse({ description: 'Signed out' })
  @HttpCode(204)
  async logout(@CurrentUser() auth: AuthenticatedUser, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (auth.actor.sessionId) await this.sessions.revoke(auth.actor.sessionId);
    clearSessionCookie(res, this.config);
  }

  private async startSession(userId: string, req: Request, res: Response): Promise<SessionDto> {
    const { token, session } = await this.sessions.create(userId, { ip: req.ip, userAgent: req.header('user-agent') });
    setSessionCookie(res, this.config, token, this.sessions.ttlMs);
    const user = await this.users.get(userId);
    return { user: UserDto.from(user), csrfToken: session.csrfToken, via: 'session' };
  }
}
