/** What went wrong, as a stable code the worker can map (to "at risk", to an HTTP status, to a log line). */
export type MhlErrorCode =
  | 'invalid-path'
  | 'invalid-hash'
  | 'invalid-input'
  | 'unsupported-format'
  | 'invalid-xml'
  | 'invalid-mhl'
  | 'unreadable-chain'
  | 'generation-exists'
  | 'stale-history';

/** The one error type of the ASC MHL library. Messages name the file or path at fault, never secrets. */
export class MhlError extends Error {
  override name = 'MhlError';
  constructor(
    readonly code: MhlErrorCode,
    message: string,
  ) {
    super(message);
  }
}
