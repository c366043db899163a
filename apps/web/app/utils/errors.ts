import { ApiError } from '@studiovault/api-client';

/** What to tell the person when a call fails: the server's own message when it sent one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'StudioVault is not answering. Check that the server is running, then try again.';
  return err instanceof Error ? err.message : 'Something went wrong.';
}

/** The server's stable error code, when there is one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

/**
 * The server's detail lines (each failed field, each connection check), without the one that
 * only repeats the message.
 */
export function errorDetails(err: unknown): string[] {
  if (!(err instanceof ApiError)) return [];
  return (err.body.details ?? []).filter((d) => d !== err.message);
}
