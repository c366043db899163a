/**
 * Errors and exit codes of the CLI. Scripts branch on the exit code and, with --json, on
 * `error.code`: server errors keep the server's stable code (PROJECT_SLUG_TAKEN, …), errors
 * found on the workstation use the codes below.
 */

export const ExitCode = {
  Ok: 0,
  /** The server answered with an error, or an operation failed. */
  Failed: 1,
  /** Bad flags or arguments, or not logged in. */
  Usage: 2,
  /** The server cannot be reached. */
  Unreachable: 3,
  /** Cancelled with Ctrl-C at a prompt (128 + SIGINT, as shells do). */
  Cancelled: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const CliErrorCode = {
  Usage: 'USAGE_ERROR',
  NotLoggedIn: 'NOT_LOGGED_IN',
  ServerUnreachable: 'SERVER_UNREACHABLE',
  UnexpectedResponse: 'UNEXPECTED_RESPONSE',
  ConfigInvalid: 'CONFIG_INVALID',
  Cancelled: 'CANCELLED',
  Internal: 'CLI_INTERNAL_ERROR',
} as const;

/** An error the CLI reports and exits with; the message is shown to people, the code to scripts. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly details?: string[],
    readonly requestId?: string,
    /** The HTTP status of the server's answer, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(CliErrorCode.Usage, message, ExitCode.Usage);
}

export function notLoggedIn(server?: string): CliError {
  const hint = server ? `run studiovault login --server ${server}` : 'run studiovault login --server URL';
  return new CliError(CliErrorCode.NotLoggedIn, server ? `not logged in to ${server}: ${hint}` : `not logged in: ${hint}`, ExitCode.Usage);
}

export function cancelled(): CliError {
  return new CliError(CliErrorCode.Cancelled, 'cancelled', ExitCode.Cancelled);
}

/**
 * The command printed its whole result (with --json, its one document) and only sets the
 * exit code: main prints nothing more.
 */
export class SilentExit extends Error {
  override name = 'SilentExit';
  constructor(readonly exitCode: ExitCode) {
    super(`exit ${exitCode}`);
  }
}
