import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { requestContext } from '@studiovault/common';
import { MetricsService } from './metrics.service';

/** Opens the request's context (request id, client address) and times the request. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request & { id?: string }, res: Response, next: NextFunction): void {
    const requestId = String(req.id ?? '');
    const end = this.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    requestContext.run({ requestId, ip: req.ip }, () => next());
  }
}
