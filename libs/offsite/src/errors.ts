/**
 * Errors from off-site targets, classified the way the uploader needs them (restic's
 * IsNotExist / IsPermanentError): not-found, permanent (403, missing bucket, bad credentials,
 * disk full: retrying cannot help) and transient (5xx, timeouts, refused connections: retry
 * with backoff). Messages name the target and the key, never a credential.
 */
export type TargetErrorKind = 'not-found' | 'permanent' | 'transient';

export type TargetErrorCode =
  | 'NotFound'
  | 'BucketNotFound'
  | 'AccessDenied'
  | 'InvalidCredentials'
  | 'ObjectLocked'
  | 'RetentionChangeRefused'
  | 'RetentionNotApplied'
  | 'ObjectLockNotEnabled'
  | 'BadDigest'
  | 'SizeMismatch'
  | 'InvalidKey'
  | 'InvalidRequest'
  | 'NoSpace'
  | 'Unreachable'
  | 'Timeout'
  | 'ServerError'
  | 'Unknown';

export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly kind: TargetErrorKind,
    readonly code: TargetErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
  /** The HTTP status the target answered with, when there was one. */
  readonly status?: number;
}

export function isTargetError(err: unknown): err is TargetError {
  return err instanceof TargetError;
}

export function isNotFound(err: unknown): boolean {
  return isTargetError(err) && err.kind === 'not-found';
}

/** Retrying cannot help (not-found included: the object will not appear by waiting). */
export function isPermanent(err: unknown): boolean {
  return isTargetError(err) && err.kind !== 'transient';
}

export function isTransient(err: unknown): boolean {
  return isTargetError(err) && err.kind === 'transient';
}

const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EBUSY',
  'EAGAIN',
  'EIO', // a USB drive's hiccup; a dead drive fails every retry and the run reports it
]);

const PERMANENT_ERRNO: Record<string, TargetErrorCode> = {
  EACCES: 'AccessDenied',
  EPERM: 'AccessDenied',
  EROFS: 'AccessDenied',
  ENOSPC: 'NoSpace',
  EDQUOT: 'NoSpace',
  ENAMETOOLONG: 'InvalidKey',
  ENOTDIR: 'InvalidKey',
  EISDIR: 'InvalidKey',
};

/** Maps a Node system error (fs, net) to a TargetError; anything else is returned unchanged. */
export function fromSystemError(err: unknown, what: string): unknown {
  if (isTargetError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return err;
  if (code === 'ENOENT') return new TargetError('not-found', 'NotFound', `${what}: not found`, { cause: err });
  if (TRANSIENT_ERRNO.has(code)) {
    const tcode: TargetErrorCode =
      code === 'ETIMEDOUT'
        ? 'Timeout'
        : code === 'ECONNREFUSED' || code.startsWith('EHOST') || code.startsWith('ENET')
          ? 'Unreachable'
          : 'ServerError';
    return new TargetError('transient', tcode, `${what}: ${code}`, { cause: err });
  }
  const pcode = PERMANENT_ERRNO[code];
  if (pcode) return new TargetError('permanent', pcode, `${what}: ${code}`, { cause: err });
  return err;
}
