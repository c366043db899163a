import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AppError, requestContext, safeEqual } from '@studiovault/common';
import { ErrorCode, Role, roleAtLeast } from '@studiovault/contracts';
import { IS_PUBLIC, REQUIRED_ROLE } from './access.decorators';
import { AuthenticatedUser } from './strategies';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Runs on every request: authenticates (API token or session cookie), checks CSRF for
 * cookie-authenticated writes, and checks the endpoint's role. Fail closed: an endpoint
 * without @Roles or @Public is refused (and start-up refuses to boot with one).
 */
@Injectable()
export class AccessGuard extends PassportAuthGuard(['api-token', 'session-cookie']) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (!required) throw new AppError(ErrorCode.Forbidden, 'This endpoint declares no access rule');

    await super.canActivate(context);
    const req = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const auth = req.user!;
    const store = requestContext.getStore();
    if (store) store.actor = auth.actor;

    if (auth.actor.via === 'session' && !SAFE_METHODS.has(req.method)) {
      const header = req.header('x-csrf-token');
      if (!header || !auth.csrfToken || !safeEqual(header, auth.csrfToken)) {
        throw new AppError(ErrorCode.CsrfTokenInvalid, 'Missing or wrong X-CSRF-Token header; reload the page');
      }
    }
    if (!roleAtLeast(auth.actor.role, required)) {
      throw new AppError(ErrorCode.Forbidden, `This needs the ${required} role; you are ${auth.actor.role}`);
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new AppError(ErrorCode.Unauthenticated, 'Sign in, or send an API token as "Authorization: Bearer <token>"');
    return user;
  }
}
