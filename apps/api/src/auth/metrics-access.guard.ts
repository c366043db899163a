import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';

/**
 * /metrics tells a lot about the studio (routes, traffic, errors, versions): with
 * STUDIOVAULT_METRICS_TOKEN set it needs `Authorization: Bearer <token>`; without one only
 * clients on this host (loopback, as Express resolves the client address) may read it.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(CONFIG) config: AppConfig) {
    if (config.security.metricsToken) this.expected = digest(config.security.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!this.expected) {
      if (isLoopback(req.ip)) return true;
      throw refused(req, 'Metrics are readable only from this host until STUDIOVAULT_METRICS_TOKEN is set; then send it as a bearer token');
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    // Compared as digests: constant time, whatever length was sent.
    if (match && timingSafeEqual(digest(match[1]), this.expected)) return true;
    throw refused(req, 'Metrics need the bearer token STUDIOVAULT_METRICS_TOKEN ("Authorization: Bearer <token>")');
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return v4 === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

function refused(req: Request, message: string): AppError {
  req.res?.setHeader('WWW-Authenticate', 'Bearer realm="studiovault-metrics"');
  return new AppError(ErrorCode.Unauthenticated, message);
}
