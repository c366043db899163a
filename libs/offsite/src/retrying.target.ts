import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { isTransient } from './errors';
import { TargetWrapper } from './target-wrapper';
import type {
  Body,
  ByteRange,
  MultipartOptions,
  MultipartUpload,
  ObjectInfo,
  ObjectVersion,
  OffsiteTarget,
  PartOptions,
  PutOptions,
  PutResult,
  Retention,
  UploadedPart,
} from './target';

export interface RetryOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** Delay before the first retry; doubles each time, with full jitter (default 250 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about each retry (the run records them); never given a credential. */
  onRetry?: (info: { operation: string; key?: string; attempt: number; delayMs: number; error: unknown }) => void;
  /** For tests. */
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export function isOneShotStream(body: Body): body is Readable {
  return typeof (body as Readable).pipe === 'function';
}

/**
 * Retries transient failures (5xx, timeouts, refused connections) with exponential backoff
 * and full jitter; permanent ones (403, missing bucket, bad credentials, a locked version,
 * not-found) fail at once. A put whose body is a one-shot stream is not retried: its bytes
 * are gone. A retried put may leave an extra identical version when the first try did land;
 * content-addressed keys make that harmless.
 */
export class RetryingTarget extends TargetWrapper {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    inner: OffsiteTarget,
    private readonly options: RetryOptions = {},
  ) {
    super(inner);
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
  }

  private delayFor(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap * (this.options.random ?? Math.random)());
  }

  private async retry<T>(operation: string, key: string | undefined, fn: () => Promise<T>, replayable = true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!replayable || !isTransient(error) || attempt >= this.attempts) throw error;
        const delayMs = this.delayFor(attempt);
        this.options.onRetry?.({ operation, key, attempt, delayMs, error });
        await (this.options.sleep ?? sleep)(delayMs);
      }
    }
  }

  override put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    return this.retry('put', key, () => this.inner.put(key, body, options), !isOneShotStream(body));
  }
  override head(key: string, versionId?: string): Promise<ObjectInfo> {
    return this.retry('head', key, () => this.inner.head(key, versionId));
  }
  override get(key: string, versionId?: string, range?: ByteRange): Promise<Readable> {
    return this.retry('get', key, () => this.inner.get(key, versionId, range));
  }
  /** Retried until the first version arrives; after that a failure is the caller's (a replay would repeat versions). */
  override async *list(prefix: string): AsyncIterable<ObjectVersion> {
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        for await (const v of this.inner.list(prefix)) {
          yielded = true;
          yield v;
        }
        return;
      } catch (error) {
        if (yielded || !isTransient(error) || attempt >= this.attempts) throw error;
        const delayMs = this.delayFor(attempt);
        this.options.onRetry?.({ operation: 'list', key: prefix, attempt, delayMs, error });
        await (this.options.sleep ?? sleep)(delayMs);
      }
    }
  }
  override getRetention(key: string, versionId: string): Promise<Retention | null> {
    return this.retry('getRetention', key, () => this.inner.getRetention(key, versionId));
  }
  override putRetention(key: string, versionId: string, retention: Retention): Promise<void> {
    return this.retry('putRetention', key, () => this.inner.putRetention(key, versionId, retention));
  }
  override getLegalHold(key: string, versionId: string): Promise<boolean> {
    return this.retry('getLegalHold', key, () => this.inner.getLegalHold(key, versionId));
  }
  override putLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    return this.retry('putLegalHold', key, () => this.inner.putLegalHold(key, versionId, on));
  }
  override deleteVersion(key: string, versionId: string, options?: { bypassGovernance?: boolean }): Promise<void> {
    return this.retry('deleteVersion', key, () => this.inner.deleteVersion(key, versionId, options));
  }
  override createMultipart(key: string, options: MultipartOptions): Promise<{ uploadId: string }> {
    return this.retry('createMultipart', key, () => this.inner.createMultipart(key, options));
  }
  override uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    return this.retry('uploadPart', key, () => this.inner.uploadPart(key, uploadId, partNumber, body, options));
  }
  override listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    return this.retry('listParts', key, () => this.inner.listParts(key, uploadId));
  }
  override completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    return this.retry('completeMultipart', key, () => this.inner.completeMultipart(key, uploadId, parts));
  }
  override abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.retry('abortMultipart', key, () => this.inner.abortMultipart(key, uploadId));
  }
  override listMultipartUploads(prefix: string): Promise<MultipartUpload[]> {
    return this.retry('listMultipartUploads', prefix, () => this.inner.listMultipartUploads(prefix));
  }
}
