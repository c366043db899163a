import { ParseUUIDPipe } from '@nestjs/common';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

export const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new AppError(ErrorCode.ValidationFailed, 'id must be a UUID', ['id must be a UUID']),
});
