import { ErrorCode } from '@studiovault/contracts';

/** The one place error codes become HTTP statuses. Exhaustive: a new code without a status does not compile. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
    case ErrorCode.MalformedJson:
    case ErrorCode.InvalidPath:
    case ErrorCode.InvalidRestorePattern:
    case ErrorCode.TargetSecretRequired:
      return 400;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.NotFound:
    case ErrorCode.RouteNotFound:
    case ErrorCode.UploadNotFound:
    case ErrorCode.CardNotFound:
    case ErrorCode.TargetNotFound:
      return 404;
    case ErrorCode.Unauthenticated:
    case ErrorCode.InvalidCredentials:
    case ErrorCode.SessionExpired:
    case ErrorCode.TokenInvalid:
      return 401;
    case ErrorCode.UserDisabled:
    case ErrorCode.CsrfTokenInvalid:
    case ErrorCode.Forbidden:
    case ErrorCode.InviteInvalid:
    case ErrorCode.RestoreDestinationNotAllowed:
    case ErrorCode.TargetPathNotAllowed:
    case ErrorCode.ResetInvalid:
    case ErrorCode.CurrentPasswordWrong:
    case ErrorCode.SetupCodeInvalid:
      return 403;
    case ErrorCode.TooManyRequests:
      return 429;
    case ErrorCode.SetupAlreadyDone:
    case ErrorCode.EmailTaken:
    case ErrorCode.LastAdmin:
    case ErrorCode.TokenNameTaken:
    case ErrorCode.ProjectSlugTaken:
    case ErrorCode.TargetNameTaken:
    case ErrorCode.ProjectArchived:
    case ErrorCode.Conflict:
    case ErrorCode.PathCollision:
    case ErrorCode.NoHealthyCopy:
    case ErrorCode.UploadIncomplete:
      return 409;
    case ErrorCode.TargetPreflightFailed:
      return 422;
    case ErrorCode.TargetCredentialsUnavailable:
      return 503;
    case ErrorCode.ChecksumMismatch:
      return 460; // tus checksum extension: "Checksum Mismatch"
    case ErrorCode.InsufficientStorage:
      return 507;
    case ErrorCode.VolumeOffline:
    case ErrorCode.SetupRequired:
    case ErrorCode.ServiceUnavailable:
    case ErrorCode.DatabaseUnavailable:
      return 503;
    case ErrorCode.Internal:
      return 500;
    default: {
      const unmapped: never = code;
      throw new Error(`unmapped error code ${String(unmapped)}`);
    }
  }
}
