import { ErrorCode } from '@studiovault/contracts';

/**
 * The one error type services throw. It carries a stable code; apps/api maps codes to
 * HTTP statuses in one place. Messages are written for the person reading them and
 * never contain secrets.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: string[],
  ) {
    super(message);
  }
}
