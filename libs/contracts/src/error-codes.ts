/**
 * Stable error codes. Clients (the portal, the CLI, scripts) branch on these, never on
 * messages. Every code must be mapped to an HTTP status in apps/api's error filter; the
 * mapping is an exhaustive switch, so adding a code without a status does not compile.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  Unauthenticated = 'UNAUTHENTICATED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  SessionExpired = 'SESSION_EXPIRED',
  TokenInvalid = 'TOKEN_INVALID',
  UserDisabled = 'USER_DISABLED',
  CsrfTokenInvalid = 'CSRF_TOKEN_INVALID',
  Forbidden = 'FORBIDDEN',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  SetupAlreadyDone = 'SETUP_ALREADY_DONE',
  SetupRequired = 'SETUP_REQUIRED',
  /** First-run setup without the one-time code the server printed, or with a wrong one. */
  SetupCodeInvalid = 'SETUP_CODE_INVALID',
  EmailTaken = 'EMAIL_TAKEN',
  InviteInvalid = 'INVITE_INVALID',
  /** A password-reset link that is unknown, used or expired. */
  ResetInvalid = 'RESET_INVALID',
  /** Changing one's password: the current password given is not right. */
  CurrentPasswordWrong = 'CURRENT_PASSWORD_WRONG',
  LastAdmin = 'LAST_ADMIN',
  TokenNameTaken = 'TOKEN_NAME_TAKEN',
  ProjectSlugTaken = 'PROJECT_SLUG_TAKEN',
  ProjectArchived = 'PROJECT_ARCHIVED',
  Conflict = 'CONFLICT',
  InvalidPath = 'INVALID_PATH',
  PathCollision = 'PATH_COLLISION',
  InsufficientStorage = 'INSUFFICIENT_STORAGE',
  VolumeOffline = 'VOLUME_OFFLINE',
  ChecksumMismatch = 'CHECKSUM_MISMATCH',
  UploadIncomplete = 'UPLOAD_INCOMPLETE',
  UploadNotFound = 'UPLOAD_NOT_FOUND',
  CardNotFound = 'CARD_NOT_FOUND',
  TargetNotFound = 'TARGET_NOT_FOUND',
  /** A file has no copy that can be read right now (or none from the source asked for). */
  NoHealthyCopy = 'NO_HEALTHY_COPY',
  TargetNameTaken = 'TARGET_NAME_TAKEN',
  /** Adding or editing a target: a preflight check it needs failed (e.g. Object Lock off for an immutable target). */
  TargetPreflightFailed = 'TARGET_PREFLIGHT_FAILED',
  /** The target's credentials cannot be decrypted or read (key changed, secret file gone). */
  TargetCredentialsUnavailable = 'TARGET_CREDENTIALS_UNAVAILABLE',
  /** A restore pattern (glob) that is not one: extended globs, braces, too long, too many wildcards. */
  InvalidRestorePattern = 'INVALID_RESTORE_PATTERN',
  /** A NAS restore into a folder outside the admin's restore roots (or into a volume or a system folder). */
  RestoreDestinationNotAllowed = 'RESTORE_DESTINATION_NOT_ALLOWED',
  /** A disk target folder outside the admin's disk-target roots, inside a volume, or missing. */
  TargetPathNotAllowed = 'TARGET_PATH_NOT_ALLOWED',
  /** Changing a target's endpoint, bucket or region needs its secret again. */
  TargetSecretRequired = 'TARGET_SECRET_REQUIRED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  /** The catalog database cannot be reached right now (restarting, connection lost): try again (Retry-After). */
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  Internal = 'INTERNAL_ERROR',
}

/** The body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  /** Field-level problems for VALIDATION_FAILED. */
  details?: string[];
  requestId?: string;
}
