import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { ErrorBody } from '@studiovault/contracts';
import type { components, paths } from './schema';

export type { paths, components } from './schema';
export type Schemas = components['schemas'];
export type StudioVaultClient = Client<paths>;

export interface ClientOptions {
  /** Server origin, e.g. http://nas.local:3210 (empty string: same origin, for the portal). */
  baseUrl: string;
  /** Personal API token (workstations, the CLI). */
  token?: string;
  /** CSRF token of the portal session, sent on writes. */
  csrfToken?: () => string | undefined;
  fetch?: typeof fetch;
  /** Sent as User-Agent where the platform allows it. */
  userAgent?: string;
}

/** An error answered by the server, with its stable code. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
  get code() {
    return this.body.code;
  }
}

/** The typed client generated from the committed OpenAPI spec (libs/api-client/openapi.json). */
export function createStudioVaultClient(options: ClientOptions): StudioVaultClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: options.fetch,
    credentials: 'same-origin',
  });
  const auth: Middleware = {
    onRequest({ request }) {
      if (options.token) request.headers.set('Authorization', `Bearer ${options.token}`);
      if (options.userAgent) request.headers.set('User-Agent', options.userAgent);
      const csrf = options.csrfToken?.();
      if (csrf && !['GET', 'HEAD', 'OPTIONS'].includes(request.method)) request.headers.set('X-CSRF-Token', csrf);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/** Returns `data`, or throws an ApiError carrying the server's error code and message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = (result.error ?? {}) as Partial<ErrorBody>;
    throw new ApiError(result.response.status, {
      statusCode: result.response.status,
      code: (body.code ?? 'INTERNAL_ERROR') as ErrorBody['code'],
      message: body.message ?? `HTTP ${result.response.status}`,
      details: body.details,
      requestId: body.requestId,
    });
  }
  return result.data as T;
}
