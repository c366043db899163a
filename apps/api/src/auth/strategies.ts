import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Strategy as CustomStrategy } from 'passport-custom';
import { Strategy as LocalStrategy } from 'passport-local';
import { ApiTokensService, SessionsService, UsersService } from '@studiovault/auth';
import { Actor } from '@studiovault/common';

export const SESSION_COOKIE = 'sv_session';

export interface AuthenticatedUser {
  actor: Actor;
  csrfToken?: string;
}

/** E-mail and password, for portal sign-in and CLI token creation. */
@Injectable()
export class PasswordStrategy extends PassportStrategy(LocalStrategy, 'local') {
  constructor(private readonly users: UsersService) {
    super({ usernameField: 'email', passwordField: 'password', session: false });
  }
  async validate(email: string, password: string): Promise<AuthenticatedUser> {
    const user = await this.users.verifyCredentials(email, password);
    return { actor: { userId: user.id, email: user.email, role: user.role, via: 'session' } };
  }
}

/** Personal API tokens: `Authorization: Bearer svt_…` (workstations, the CLI, scripts). */
@Injectable()
export class ApiTokenStrategy extends PassportStrategy(BearerStrategy, 'api-token') {
  constructor(private readonly tokens: ApiTokensService) {
    super();
  }
  async validate(token: string): Promise<AuthenticatedUser> {
    const { token: entity, user } = await this.tokens.authenticate(token);
    return { actor: { userId: user.id, email: user.email, role: user.role, via: 'token', tokenId: entity.id } };
  }
}

/** The portal's httpOnly session cookie. */
@Injectable()
export class SessionCookieStrategy extends PassportStrategy(CustomStrategy, 'session-cookie') {
  constructor(private readonly sessions: SessionsService) {
    super();
  }
  async validate(req: Request): Promise<AuthenticatedUser | false> {
    const token = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    if (!token) return false;
    const { session, user } = await this.sessions.authenticate(token);
    return {
      actor: { userId: user.id, email: user.email, role: user.role, via: 'session', sessionId: session.id },
      csrfToken: session.csrfToken,
    };
  }
}
