import * as tus from 'tus-js-client';
import { NETWORK_REASONS } from '../api';
import { CliError, CliErrorCode, ExitCode } from '../errors';
import { type HashingFile, hashingFileReader, SourceReadError } from './hashing-reader';
import { IngestHttpStack } from './http-stack';

/**
 * Bytes per PATCH. The body is streamed from the card (see hashing-reader), so this costs no
 * memory; it bounds how much one request carries (proxies, timeouts) and how often the
 * server's offset is confirmed.
 */
export const CHUNK_SIZE = 256 * 1024 * 1024;

/**
 * Waits between attempts after a network failure (reset after every attempt that moved
 * bytes): a pulled cable or a closed laptop heals by itself within about five minutes.
 */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 15_000, 30_000, 30_000, 60_000, 60_000, 60_000];

/**
 * A request that neither sends nor receives a byte for this long is given up and retried:
 * a pulled cable does not end a TCP connection for many minutes. Long enough for the server
 * to fsync a large file's last bytes on two disks before it answers the last PATCH.
 */
export const IDLE_TIMEOUT_MS = 60_000;

export interface TusJob {
  /** `<server>/files` */
  endpoint: string;
  token: string;
  userAgent: string;
  file: HashingFile;
  metadata: Record<string, string>;
  /** Resume this upload (HEAD for its offset); a new one is created when the server no longer has it. */
  uploadUrl?: string;
  chunkSize?: number;
  retryDelays?: number[];
  /** Shared by the uploads of a run (keep-alive connections); default: a new IngestHttpStack. */
  httpStack?: tus.HttpStack;
  /** Called (and awaited) when the server gave an upload URL, before the first byte is sent. */
  onUrl: (url: string) => Promise<void>;
  /** The upload URL given is gone on the server (expired, ended): the file starts afresh. */
  onUrlGone: () => void;
  onProgress?: (sent: number, total: number) => void;
  /** A network failure; the upload is retried after `delayMs`. */
  onRetry?: (reason: string, delayMs: number) => void;
  /** An upload of an earlier run goes on at the server's `offset`. */
  onResumed?: (offset: number) => void;
  /** After a network failure, the upload goes on at the server's `offset`. */
  onNetworkResume?: (offset: number) => void;
  signal?: AbortSignal;
}

export interface TusOutcome {
  url: string;
  /** The offset the server had when an earlier upload was resumed (null: a new upload). */
  resumedFrom: number | null;
}

interface ErrorBodyLike {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

function parseBody(text: string | undefined): ErrorBodyLike | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as ErrorBodyLike;
    return typeof body === 'object' && body !== null && typeof body.code === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}

/** Codes a retry can fix: the NAS is busy or a volume is coming back. Every other StudioVault code is final. */
const TRANSIENT_CODES = new Set(['SERVICE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'VOLUME_OFFLINE', 'TOO_MANY_REQUESTS', 'INTERNAL_ERROR']);

function sourceError(err: unknown): SourceReadError | undefined {
  if (err instanceof SourceReadError) return err;
  const causing = (err as { causingError?: unknown } | undefined)?.causingError;
  return causing instanceof SourceReadError ? causing : undefined;
}

function shouldRetry(err: tus.DetailedError): boolean {
  if (sourceError(err)) return false; // the card, not the network
  const res = err.originalResponse;
  if (!res) return true; // network failure
  const status = res.getStatus();
  const body = parseBody(res.getBody());
  if (body) return TRANSIENT_CODES.has(String(body.code));
  // tus itself: 409 offset mismatch and 423 locked are fixed by a HEAD; other 4xx are final.
  return !(status >= 400 && status < 500) || status === 409 || status === 423;
}

/** Why a request failed, in words; the underlying network error's code when there is one. */
export function networkReason(err: unknown): string {
  const e = err as { code?: string; message?: string; causingError?: unknown };
  const cause = (e.causingError ?? err) as { code?: string; message?: string };
  const code = cause?.code ?? '';
  if (NETWORK_REASONS[code]) return `${NETWORK_REASONS[code]} (${code})`;
  return cause?.message ?? String(err);
}

/** A tus failure as a CliError: the server's code and message when it answered, SERVER_UNREACHABLE when it did not. */
export function tusError(err: unknown, server: string): CliError {
  if (err instanceof CliError) return err;
  const source = sourceError(err);
  if (source) return new CliError(source.code, source.message, ExitCode.Failed);
  const detailed = err as tus.DetailedError;
  const res = detailed?.originalResponse;
  if (res) {
    const body = parseBody(res.getBody());
    if (body) {
      const details = Array.isArray(body.details) ? body.details.map(String) : undefined;
      return new CliError(String(body.code), String(body.message ?? `HTTP ${res.getStatus()}`), ExitCode.Failed, details);
    }
    const text = (res.getBody() ?? '').trim().slice(0, 200);
    return new CliError(
      CliErrorCode.UnexpectedResponse,
      `the upload endpoint answered HTTP ${res.getStatus()}${text ? `: ${text}` : ''}`,
      ExitCode.Failed,
    );
  }
  if (detailed?.originalRequest) {
    return new CliError(
      CliErrorCode.ServerUnreachable,
      `cannot reach the StudioVault server at ${server}: ${networkReason(err)}`,
      ExitCode.Unreachable,
    );
  }
  return new CliError('READ_FAILED', err instanceof Error ? err.message : String(err), ExitCode.Failed);
}

/**
 * Uploads one file with tus 1.0 (tus-js-client), reading and hashing it through its
 * HashingFile. Resumes `uploadUrl` at the server's offset; retries network failures on its
 * own (RETRY_DELAYS); the upload URL is handed to `onUrl` (the state file) before any byte
 * is sent, so a killed CLI resumes where the server is.
 */
export function tusUpload(job: TusJob, server: string): Promise<TusOutcome> {
  return new Promise<TusOutcome>((resolve, reject) => {
    let resumedFrom: number | null = null;
    let firstHead = Boolean(job.uploadUrl);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      job.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const retries = job.retryDelays ?? RETRY_DELAYS;
    const upload = new tus.Upload({ path: job.file.path } as unknown as Buffer, {
      endpoint: job.endpoint,
      uploadUrl: job.uploadUrl ?? null,
      uploadSize: job.file.size,
      chunkSize: job.chunkSize ?? CHUNK_SIZE,
      metadata: job.metadata,
      headers: { Authorization: `Bearer ${job.token}`, 'User-Agent': job.userAgent },
      retryDelays: retries,
      fileReader: hashingFileReader(job.file),
      httpStack: job.httpStack ?? new IngestHttpStack(IDLE_TIMEOUT_MS),
      // The state file is the URL storage: the URL is on disk before the first PATCH.
      fingerprint: async () => job.file.path,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: false,
      urlStorage: {
        findAllUploads: async () => [],
        findUploadsByFingerprint: async () => [],
        addUpload: async (_fingerprint: string, stored: { uploadUrl: string | null }) => {
          if (stored.uploadUrl) await job.onUrl(stored.uploadUrl);
          return 'state';
        },
        removeUpload: async () => job.onUrlGone(),
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() !== 'HEAD') return;
        const offset = Number.parseInt(res.getHeader('Upload-Offset') ?? '', 10);
        const ok = res.getStatus() >= 200 && res.getStatus() < 300 && Number.isSafeInteger(offset);
        if (firstHead) {
          firstHead = false;
          if (ok) {
            resumedFrom = offset;
            job.onResumed?.(offset);
          }
        } else if (ok) {
          job.onNetworkResume?.(offset);
        }
      },
      onShouldRetry: (err, attempt) => {
        const retry = shouldRetry(err);
        if (retry) job.onRetry?.(networkReasonOrStatus(err), retries[attempt] ?? 0);
        return retry;
      },
      onProgress: (sent, total) => job.onProgress?.(sent, total),
      onSuccess: () => finish(() => resolve({ url: upload.url!, resumedFrom })),
      onError: (err) => finish(() => reject(tusError(err, server))),
    });
    const onAbort = () => {
      void upload.abort(false);
      finish(() => reject(new CliError(CliErrorCode.Cancelled, 'cancelled', ExitCode.Cancelled)));
    };
    if (job.signal?.aborted) return onAbort();
    job.signal?.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}

function networkReasonOrStatus(err: tus.DetailedError): string {
  const res = err.originalResponse;
  if (res) {
    const body = parseBody(res.getBody());
    return body ? `${String(body.code)}: ${String(body.message)}` : `HTTP ${res.getStatus()}`;
  }
  return networkReason(err);
}

/** The upload id: the last path segment of the upload URL. */
export function uploadIdOf(url: string): string {
  return new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
}
