import { ParseUUIDPipe, PipeTransform } from '@nestjs/common';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

export const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new AppError(ErrorCode.ValidationFailed, 'id must be a UUID', ['id must be a UUID']),
});

const BIGINT_MAX = 2n ** 63n - 1n;

/** An id of a bigint identity column (assets): a positive integer that Postgres's bigint holds. */
export const bigintIdPipe: PipeTransform<string, string> = {
  transform(value: string): string {
    if (typeof value !== 'string' || !/^[1-9]\d{0,18}$/.test(value) || BigInt(value) > BIGINT_MAX) {
      throw new AppError(ErrorCode.ValidationFailed, 'id must be a positive integer below 2^63', [
        'id must be a positive integer below 2^63',
      ]);
    }
    return value;
  },
};
