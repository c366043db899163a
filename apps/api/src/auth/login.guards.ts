import { CanActivate, ExecutionContext, Injectable, mixin, Type } from '@nestjs/common';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AuditService } from '@studiovault/audit';
import { LoginLimiter } from '@studiovault/auth';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';
import { validationPipe } from '../controllers/pipes';

/** The account and the client address a sign-in attempt is counted under (guards run before validation). */
function attempt(req: Request): { email: string; address: string } {
  const body = req.body as { email?: unknown } | undefined;
  const email = typeof body?.email === 'string' ? body.email.toLowerCase().trim() : '';
  return { email, address: req.ip ?? req.socket.remoteAddress ?? 'unknown' };
}

/**
 * Validates the request body against the route's DTO first. Guards run before pipes, so
 * without it the rate limiter and passport-local would see the raw body: a 900 KB "e-mail"
 * would become a limiter key and an audit row before the DTO's limits ever ran.
 */
export function ValidBody(dto: Type<object>): Type<CanActivate> {
  @Injectable()
  class ValidBodyGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<Request>();
      await validationPipe.transform(req.body, { type: 'body', metatype: dto });
      return true;
    }
  }
  return mixin(ValidBodyGuard);
}

/** Refuses sign-in attempts past the failure limit, before any password is checked. */
@Injectable()
export class LoginRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: LoginLimiter) {}
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const { email, address } = attempt(req);
    const wait = await this.limiter.retryAfter(email, address);
    if (wait > 0) {
      req.res?.setHeader('Retry-After', String(wait));
      const when = wait < 60 ? `${wait} s` : `${Math.ceil(wait / 60)} min`;
      throw new AppError(ErrorCode.TooManyRequests, `Too many failed sign-ins from this address; try again in ${when}`);
    }
    return true;
  }
}

/** passport-local; counts failures for the limiter and the audit log. */
@Injectable()
export class PasswordGuard extends PassportAuthGuard('local') {
  constructor(
    private readonly limiter: LoginLimiter,
    private readonly audit: AuditService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const { email, address } = attempt(req);
    try {
      await super.canActivate(context);
      await this.limiter.succeed(email, address);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.InvalidCredentials) {
        await this.limiter.fail(email, address);
        await this.audit.record('auth.login_failed', undefined, { email });
      }
      throw err;
    }
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new AppError(ErrorCode.ValidationFailed, 'email and password are required', ['email and password are required']);
    return user;
  }
}
