import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

/** A NUL anywhere in the URL, percent-encoded (path parameters and query strings alike). */
const ENCODED_NUL = /%00/i;
const MAX_DEPTH = 64;

/** The path (e.g. `body.name`) of the first string or key in `value` that holds a NUL, if any. */
function nulIn(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const at = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (key.includes('\0')) return at;
    const found = nulIn(inner, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses a NUL byte in any text the client sends (URL, query, JSON or form body) with 400,
 * before any route sees it: no name, e-mail or path may hold one (Postgres cannot store one
 * either). Runs after the body parsers.
 */
export function rejectNulBytes(req: Request, _res: Response, next: NextFunction): void {
  const where = ENCODED_NUL.test(req.originalUrl) || req.originalUrl.includes('\0') ? 'the URL' : nulIn(req.body, 'body');
  if (where) {
    next(new AppError(ErrorCode.ValidationFailed, `A NUL byte is not allowed (in ${where})`, [`${where} must not contain a NUL byte`]));
    return;
  }
  next();
}
