import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { type Bucket, BucketError, type BucketErrorKind, checkKey, type FetchedObject, NETWORK_CODES, type ObjectVersion } from './bucket';

/**
 * An S3 bucket (AWS, B2, Wasabi, MinIO, Ceph RGW) read with the target's prefix. Its own module,
 * loaded only when a restore reads from S3: the SDK is most of the CLI's bundle and every other
 * command starts faster without it.
 */
export interface S3BucketConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  /** "" or ending with "/". */
  prefix: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  maxSockets: number;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

export class S3Bucket implements Bucket {
  readonly description: string;
  readonly summary: Record<string, unknown>;
  readonly #client: S3Client;
  readonly #secret: string;
  readonly #bucket: string;
  private readonly prefix: string;

  constructor(config: S3BucketConfig) {
    this.#secret = config.secretAccessKey;
    this.#bucket = config.bucket;
    this.prefix = config.prefix;
    const where = config.endpoint ? new URL(config.endpoint).host : `AWS ${config.region}`;
    this.description = `s3 bucket ${config.bucket}${config.prefix ? `/${config.prefix}` : ''} at ${where}`;
    this.summary = {
      kind: 's3',
      endpoint: config.endpoint ?? null,
      region: config.region,
      bucket: config.bucket,
      prefix: config.prefix || null,
    };
    this.#client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Ceph 16 accepts neither aws-chunked trailers nor CRC32 headers on every call; the CLI checks SHA-256 itself.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: {
        requestTimeout: 120_000,
        connectionTimeout: 10_000,
        httpAgent: { keepAlive: true, maxSockets: config.maxSockets },
        httpsAgent: { keepAlive: true, maxSockets: config.maxSockets },
      },
    });
  }

  close(): void {
    this.#client.destroy();
  }

  /** An SDK or socket error as a BucketError whose message names the operation and never the secret. */
  private error(err: unknown, what: string): BucketError {
    if (err instanceof BucketError) return err;
    const e = (err ?? {}) as SdkError;
    const status = e.$metadata?.httpStatusCode;
    const name = e.name ?? 'Error';
    const scrub = (s: string) => (this.#secret ? s.split(this.#secret).join('[redacted]') : s);
    let kind: BucketErrorKind;
    let detail = `${name}${status ? ` ${status}` : ''}${e.message && e.message !== name && e.message !== 'UnknownError' ? `: ${e.message}` : ''}`;
    if (status === undefined) {
      const code = e.code ?? (e.errors?.[0] as SdkError | undefined)?.code;
      if (name === 'AbortError') kind = 'failed';
      else if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError' || name === 'RequestTimeout') {
        kind = 'unreachable';
        detail = `${code ?? name}: nothing answers (is the endpoint right, and the network up?)`;
      } else kind = 'transient';
    } else if (name === 'NoSuchBucket') kind = 'no-bucket';
    else if (['NoSuchKey', 'NoSuchVersion', 'NotFound'].includes(name) || status === 404) kind = 'not-found';
    else if (name === 'InvalidArgument' && /version/i.test(e.message ?? '')) kind = 'not-found';
    else if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken'].includes(name))
      kind = 'denied';
    else if (status === 401 || status === 403) kind = 'denied';
    else if (status === 408 || status === 429 || status >= 500) kind = 'transient';
    else kind = 'failed';
    return new BucketError(kind, scrub(`${this.description}: ${what}: ${detail}`));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(err, what);
    }
  }

  listFolders(prefix: string): Promise<string[]> {
    return this.folders(this.prefix + prefix, `list ${prefix || '/'}`);
  }

  rootFolders(): Promise<string[]> {
    return this.folders('', 'list the top of the bucket');
  }

  private async folders(full: string, what: string): Promise<string[]> {
    const out: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.call(what, () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: full, Delimiter: '/', ContinuationToken })),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix?.startsWith(full)) out.push(p.Prefix.slice(full.length).replace(/\/$/, ''));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out.filter((f) => f.length > 0);
  }

  async listVersions(prefix: string): Promise<ObjectVersion[]> {
    const full = this.prefix + prefix;
    const out: ObjectVersion[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await this.call(`list versions ${prefix}`, () =>
        this.#client.send(new ListObjectVersionsCommand({ Bucket: this.#bucket, Prefix: full, KeyMarker, VersionIdMarker })),
      );
      for (const v of page.Versions ?? []) {
        if (!v.Key?.startsWith(full)) continue;
        out.push({
          key: v.Key.slice(this.prefix.length),
          versionId: v.VersionId ?? 'null',
          lastModified: v.LastModified ?? new Date(0),
          size: v.Size ?? 0,
          isLatest: v.IsLatest ?? false,
          deleteMarker: false,
        });
      }
      for (const d of page.DeleteMarkers ?? []) {
        if (!d.Key?.startsWith(full)) continue;
        out.push({
          key: d.Key.slice(this.prefix.length),
          versionId: d.VersionId ?? 'null',
          lastModified: d.LastModified ?? new Date(0),
          size: 0,
          isLatest: d.IsLatest ?? false,
          deleteMarker: true,
        });
      }
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
    return out;
  }

  async get(key: string, versionId?: string, signal?: AbortSignal): Promise<FetchedObject> {
    checkKey(key);
    const out = await this.call(`get ${key}${versionId ? ` (version ${versionId})` : ''}`, () =>
      this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.prefix + key,
          VersionId: versionId && versionId !== 'null' ? versionId : undefined,
        }),
        { abortSignal: signal },
      ),
    );
    if (!(out.Body instanceof Readable)) throw new BucketError('transient', `${this.description}: get ${key}: no body`);
    return { body: out.Body, size: out.ContentLength ?? 0, versionId: out.VersionId ?? 'null', sha256: out.Metadata?.sha256 };
  }
}
