import { ParseUUIDPipe, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
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

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints
      ? Object.values(e.constraints).map((m) => (m.includes('should not exist') ? `${path} is not an accepted field` : m))
      : [];
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  exceptionFactory: (errors) => {
    const details = flatten(errors);
    return new AppError(ErrorCode.ValidationFailed, details[0] ?? 'The request is invalid', details);
  },
});
