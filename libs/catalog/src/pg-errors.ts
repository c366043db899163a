import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

/** Postgres error helpers: let the database's constraints decide, then name what happened. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** The SQLSTATE of a pg or TypeORM (QueryFailedError) error; undefined for anything else. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown; driverError?: { code?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  const code = e.driverError?.code ?? (typeof e.severity === 'string' ? e.code : undefined);
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A database error that the request's input caused, as the client's error: a value the column
 * cannot hold, a reference to a row that is not there, a duplicate. Its message never carries
 * the database's own text (table, constraint or value names). Undefined for the server's faults.
 */
export function inputErrorFromDatabase(err: unknown): AppError | undefined {
  switch (pgErrorCode(err)) {
    case '22P02': // invalid_text_representation: "abc" for a uuid or bigint
    case '22003': // numeric_value_out_of_range
    case '22001': // string_data_right_truncation
    case '22007': // invalid_datetime_format
    case '22008': // datetime_field_overflow
    case '22021': // character_not_in_repertoire (a NUL byte)
    case '22P05': // untranslatable_character
      return new AppError(ErrorCode.ValidationFailed, 'A value in the request is not valid here');
    case '23503': // foreign_key_violation
      return new AppError(ErrorCode.ValidationFailed, 'The request refers to something that does not exist');
    case '23505': // unique_violation
      return new AppError(ErrorCode.Conflict, 'That already exists');
    default:
      return undefined;
  }
}
