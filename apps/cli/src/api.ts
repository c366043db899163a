import { ApiError, createStudioVaultClient, type StudioVaultClient, unwrap } from '@studiovault/api-client';
import { version } from '../package.json';
import { CliError, CliErrorCode, ExitCode } from './errors';

export const USER_AGENT = `studiovault-cli/${version} (node ${process.versions.node}; ${process.platform})`;

/** How long one API call may take before the server counts as unreachable. */
const DEFAULT_TIMEOUT_MS = 30_000;

type ApiResult<T> = { data?: T; error?: unknown; response: Response };

/**
 * The typed API client for one server, plus the translation of everything that can go wrong
 * into CliErrors: server errors keep their code (exit 1), network failures name the URL (exit 3).
 */
export class Api {
  readonly client: StudioVaultClient;

  constructor(
    readonly server: string,
    /** The credential (never printed); the tus uploads of `ingest` send it too. */
    readonly token?: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const timed: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    this.client = createStudioVaultClient({ baseUrl: server, token, userAgent: USER_AGENT, fetch: timed });
  }

  /** The response's data, or a CliError. */
  async call<T>(request: Promise<ApiResult<T>>): Promise<T> {
    let result: ApiResult<T>;
    try {
      result = await request;
    } catch (err) {
      throw this.translate(err);
    }
    if (result.error !== undefined || !result.response.ok) {
      if (!isErrorBody(result.error)) throw this.notStudioVault(result.response);
    }
    try {
      return unwrap(result);
    } catch (err) {
      if (err instanceof ApiError) {
        throw new CliError(err.code, err.message, ExitCode.Failed, err.body.details, err.body.requestId, result.response.status);
      }
      throw err;
    }
  }

  private translate(err: unknown): unknown {
    if (err instanceof SyntaxError) {
      return new CliError(
        CliErrorCode.UnexpectedResponse,
        `the server at ${this.server} did not answer with JSON; is this the address of StudioVault?`,
        ExitCode.Failed,
      );
    }
    const reason = networkFailure(err, this.timeoutMs);
    if (reason === undefined) return err;
    return new CliError(
      CliErrorCode.ServerUnreachable,
      `cannot reach the StudioVault server at ${this.server}: ${reason}`,
      ExitCode.Unreachable,
    );
  }

  private notStudioVault(response: Response): CliError {
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if ([502, 503, 504].includes(response.status)) {
      return new CliError(
        CliErrorCode.ServerUnreachable,
        `cannot reach the StudioVault server at ${this.server}: ${status} from the proxy in front of it`,
        ExitCode.Unreachable,
      );
    }
    return new CliError(
      CliErrorCode.UnexpectedResponse,
      `the server at ${this.server} answered ${status} without a StudioVault error; is this the address of StudioVault?`,
      ExitCode.Failed,
    );
  }
}

function isErrorBody(body: unknown): body is { code: string; message: string } {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string' &&
    typeof (body as { message?: unknown }).message === 'string'
  );
}

export const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is StudioVault running, and is the port right?)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
};

/** Why a fetch failed, for people; undefined when the error is not a network failure. */
function networkFailure(err: unknown, timeoutMs: number): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (!(err instanceof TypeError) || !/fetch failed/i.test(err.message)) return undefined;
  const cause = err.cause as (Error & { code?: string }) | undefined;
  const code = cause?.code ?? '';
  if (NETWORK_REASONS[code]) return `${NETWORK_REASONS[code]} (${code})`;
  // fetch refuses ports reserved for other protocols (1, 25, 6000, 10080, …).
  if (cause?.message === 'bad port')
    return 'fetch refuses to connect to this port (reserved for another protocol); use the port StudioVault listens on';
  if (/CERT|SSL|TLS|SELF_SIGNED|VERIFY/.test(code)) {
    return `its TLS certificate is not trusted (${code}); if the NAS uses its own CA, set NODE_EXTRA_CA_CERTS to that CA's PEM file`;
  }
  return cause?.message ? `${cause.message}${code ? ` (${code})` : ''}` : err.message;
}
