import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { inputErrorFromDatabase, pgErrorCode } from '@studiovault/catalog';
import { AppError, isDatabaseUnavailable, statusOf } from '@studiovault/common';
import { ErrorBody, ErrorCode } from '@studiovault/contracts';
import { MetricsService } from '../ops/metrics.service';

/** body-parser errors: raw, or wrapped by Nest's adapter (the original is the `cause`). */
function fromBodyParser(err: unknown): AppError | undefined {
  const raw = err instanceof HttpException && err.cause ? err.cause : err;
  if (raw instanceof URIError) return new AppError(ErrorCode.ValidationFailed, 'The URL has a malformed %-encoding');
  const type = (raw as { type?: string })?.type;
  if (type === 'entity.parse.failed') return new AppError(ErrorCode.MalformedJson, 'The request body is not valid JSON');
  if (type === 'entity.too.large') return new AppError(ErrorCode.PayloadTooLarge, 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new AppError(ErrorCode.ValidationFailed, 'Unsupported request encoding');
  return undefined;
}

function fromHttpException(err: HttpException): AppError {
  const status = err.getStatus();
  const message = err.message;
  switch (status) {
    case 404:
      return new AppError(ErrorCode.RouteNotFound, message.startsWith('Cannot ') ? `No such endpoint: ${message.slice(7)}` : message);
    case 413:
      return new AppError(ErrorCode.PayloadTooLarge, 'The request body is too large');
    case 429:
      return new AppError(ErrorCode.TooManyRequests, 'Too many requests; slow down');
    case 401:
      return new AppError(ErrorCode.Unauthenticated, message);
    case 403:
      return new AppError(ErrorCode.Forbidden, message);
    case 409:
      return new AppError(ErrorCode.Conflict, message);
    default:
      return status < 500 ? new AppError(ErrorCode.ValidationFailed, message) : new AppError(ErrorCode.Internal, 'Internal error');
  }
}

function describe(exception: unknown): string {
  return exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('ErrorFilter');
  constructor(private readonly metrics: MetricsService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const requestId = req.id ? String(req.id) : undefined;
    let err: AppError;
    if (exception instanceof AppError) err = exception;
    else if (fromBodyParser(exception)) err = fromBodyParser(exception)!;
    else if (exception instanceof HttpException) err = fromHttpException(exception);
    else if (isDatabaseUnavailable(exception)) {
      // The catalog's Postgres is away (restarting, killed): the request can be tried again.
      this.log.warn(`request ${requestId}: database unavailable: ${describe(exception)}`);
      err = new AppError(ErrorCode.DatabaseUnavailable, 'The catalog database is not reachable right now; try again shortly');
    } else if (inputErrorFromDatabase(exception)) {
      // Input the database refused: the client's error, answered without the database's text.
      err = inputErrorFromDatabase(exception)!;
      this.log.warn(`request ${requestId}: database refused the input (${pgErrorCode(exception)}): ${describe(exception)}`);
    } else {
      // Unknown errors (a database error included) are logged with their stack but answered without detail.
      this.log.error(`request ${requestId}: ${describe(exception)}`);
      err = new AppError(ErrorCode.Internal, 'Internal error; the server log has the details');
    }
    const statusCode = statusOf(err.code);
    this.metrics.httpErrors.inc({ code: err.code });
    const body: ErrorBody = { statusCode, code: err.code, message: err.message, requestId };
    if (err.details?.length) body.details = err.details;
    if (err.code === ErrorCode.DatabaseUnavailable && !res.headersSent) res.setHeader('Retry-After', '5');
    if (!res.headersSent) res.status(statusCode).json(body);
  }
}
