import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { countedReadStream } from '@studiovault/hashing';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { fromSystemError, isNotFound, isTargetError, TargetError, type TargetErrorCode } from '../errors';
import { runPreflight, type PreflightProbes } from '../preflight';
import { assertRetentionExtends, wholeSecondUp } from '../retention';
import { isOneShotStream } from '../retrying.target';
import { Secret } from '../secret';
import type {
  Body,
  ByteRange,
  FileSlice,
  LockMode,
  MultipartOptions,
  MultipartUpload,
  ObjectInfo,
  ObjectVersion,
  OffsiteTarget,
  PartOptions,
  PreflightReport,
  PutOptions,
  PutResult,
  Retention,
  TargetCapabilities,
  UploadedPart,
} from '../target';

const MiB = 1024 * 1024;

export interface S3TargetConfig {
  /** Omit for AWS; e.g. https://s3.eu-central-003.backblazeb2.com, http://127.0.0.1:7480 (RGW). */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every key ("studio-a/"); listings give keys without it. */
  prefix?: string;
  /** Path-style URLs (http://host/bucket/key): MinIO, RGW, most NAS-hosted servers. */
  forcePathStyle?: boolean;
  storageClass?: string;
  accessKeyId: string;
  secretAccessKey: Secret;
  /** Per request, in ms (default 120 000: a 64 MiB part on a slow uplink). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Sockets kept open to the endpoint (default 64). */
  maxSockets?: number;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Sorts S3's answers into not-found / permanent / transient. Codes come from AWS, B2, MinIO and RGW. */
function classify(err: SdkError): { kind: TargetError['kind']; code: TargetErrorCode } | null {
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? '';
  if (status === undefined) {
    if (name === 'TimeoutError' || name === 'RequestTimeout') return { kind: 'transient', code: 'Timeout' };
    if (err.code === 'ENOTFOUND') return { kind: 'transient', code: 'Unreachable' };
    return null; // a system error (ECONNREFUSED…) or a bug: decided by the caller
  }
  if (['NoSuchBucket'].includes(name)) return { kind: 'permanent', code: 'BucketNotFound' };
  if (['NoSuchKey', 'NoSuchVersion', 'NotFound', 'NoSuchUpload'].includes(name) || status === 404)
    return { kind: 'not-found', code: 'NotFound' };
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'InvalidSecurity'].includes(name) || status === 401) {
    return { kind: 'permanent', code: 'InvalidCredentials' };
  }
  if (status === 403) {
    if (/object lock|retention|legal hold|worm/i.test(err.message ?? '')) return { kind: 'permanent', code: 'ObjectLocked' };
    return { kind: 'permanent', code: 'AccessDenied' };
  }
  if (name === 'BadDigest' || name === 'InvalidDigest') return { kind: 'permanent', code: 'BadDigest' };
  if (name === 'RequestTimeout') return { kind: 'transient', code: 'Timeout' };
  if (status === 408 || status === 409 || status === 429 || status >= 500) return { kind: 'transient', code: 'ServerError' };
  return { kind: 'permanent', code: 'InvalidRequest' };
}

/** An S3 error code fit to show (AccessDenied, NoSuchBucket…): a word, not a parser's complaint about an HTML page. */
function safeErrorName(name: string | undefined): string | undefined {
  if (!name || !/^[A-Za-z][A-Za-z0-9]{1,63}$/.test(name)) return undefined;
  return ['Error', 'UnknownError', 'SyntaxError', 'TypeError', 'RangeError'].includes(name) ? undefined : name;
}

function isLockConfigMissing(err: unknown): boolean {
  const name = (err as SdkError)?.name ?? '';
  // AWS: NoSuchObjectLockConfiguration; RGW 16: ObjectLockConfigurationNotFoundError (also for one object without retention)
  return name === 'NoSuchObjectLockConfiguration' || name === 'ObjectLockConfigurationNotFoundError';
}

function md5Base64(b: Uint8Array): string {
  return createHash('md5').update(b).digest('base64');
}

async function md5OfSlice(slice: FileSlice): Promise<string> {
  const h = createHash('md5');
  if (slice.length === 0) return h.digest('base64');
  const start = slice.offset ?? 0;
  const end = slice.length === undefined ? undefined : start + slice.length - 1;
  for await (const chunk of countedReadStream(slice.path, { start, end, highWaterMark: 4 * MiB }) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('base64');
}

function sliceStream(slice: FileSlice): Readable {
  if (slice.length === 0) return Readable.from([]);
  const start = slice.offset ?? 0;
  return countedReadStream(slice.path, {
    start,
    end: slice.length === undefined ? undefined : start + slice.length - 1,
    highWaterMark: MiB,
  });
}

/**
 * An S3-compatible bucket with Object Lock: AWS S3, Backblaze B2, Wasabi, MinIO, Ceph RGW.
 *
 * What makes it work across providers: checksums are computed by the SDK only where an
 * operation requires one (Ceph 16 accepts neither aws-chunked trailers nor the SDK's default
 * CRC32 on every call) and every PUT and UploadPart carries the Content-MD5 we compute (AWS
 * and B2 refuse locked uploads without a checksum). The SDK does not retry: RetryingTarget does,
 * knowing permanent from transient. The SHA-256 of each object travels as x-amz-meta-sha256.
 */
export class S3Target implements OffsiteTarget {
  readonly capabilities: TargetCapabilities = {
    kind: 's3',
    versioning: true,
    objectLock: 'server',
    multipart: true,
    minPartSize: 5 * MiB,
    maxPartSize: 5 * 1024 * MiB,
    maxParts: 10_000,
    rotatesOffsite: false,
  };
  readonly description: string;
  readonly #client: S3Client;
  readonly #config: S3TargetConfig;
  private readonly prefix: string;

  constructor(config: S3TargetConfig) {
    this.#config = config;
    this.prefix = config.prefix ?? '';
    const where = config.endpoint ? new URL(config.endpoint).host : `AWS ${config.region}`;
    this.description = `s3 target ${config.bucket}${this.prefix ? `/${this.prefix}` : ''} at ${where}`;
    this.#client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle ?? false,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey.reveal() },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: config.requestTimeoutMs ?? 120_000,
        connectionTimeout: config.connectTimeoutMs ?? 10_000,
        httpAgent: { keepAlive: true, maxSockets: config.maxSockets ?? 64 },
        httpsAgent: { keepAlive: true, maxSockets: config.maxSockets ?? 64 },
      },
    });
    // Uploads carry Content-MD5, which the server checks: signing their payload as well would cost a
    // SHA-256 pass over every byte sent on the uploader's one JS thread (SigV4 takes a precomputed
    // x-amz-content-sha256 as it is). The rest of the request stays signed.
    this.#client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        const upload = context.commandName === 'PutObjectCommand' || context.commandName === 'UploadPartCommand';
        if (upload && request.headers && request.headers['content-md5']) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'studiovaultUnsignedPayloadWithContentMd5' },
    );
  }

  /** Never the credentials. */
  toJSON(): object {
    return { description: this.description, capabilities: this.capabilities };
  }

  /** Closes kept-alive sockets. */
  destroy(): void {
    this.#client.destroy();
  }

  private full(key: string): string {
    if (key.length === 0 || key.includes('\0'))
      throw new TargetError('permanent', 'InvalidKey', `invalid object key ${JSON.stringify(key.slice(0, 200))}`);
    return this.prefix + key;
  }

  /** Maps an SDK or socket error to a TargetError whose message names the operation and never a credential. */
  private error(err: unknown, what: string): TargetError | unknown {
    if (isTargetError(err)) return err;
    const e = err as SdkError;
    const c = classify(e);
    const secret = [this.#config.secretAccessKey];
    if (c) {
      // Classified, never echoed: the body (an error page, a proxy's HTML, the endpoint's own
      // <Message>) is the endpoint's text, not ours to show; the status and S3 code say enough.
      const status = e.$metadata?.httpStatusCode;
      const code = safeErrorName(e.name);
      const detail = Secret.scrub(
        status ? `the endpoint answered HTTP ${status}${code ? ` ${code}` : ''}` : `could not connect: ${code ?? e.code ?? c.code}`,
        secret,
      );
      return new TargetError(c.kind, c.code, `${this.description}: ${what}: ${detail}`, { status, cause: err });
    }
    const sys = fromSystemError(err, `${this.description}: ${what}`);
    if (isTargetError(sys)) return sys;
    // Aggregated connection errors (IPv4 + IPv6 refused) carry their code on the members.
    const inner = (err as { errors?: unknown[] }).errors?.[0];
    const fromInner = inner ? fromSystemError(inner, `${this.description}: ${what}`) : undefined;
    if (isTargetError(fromInner)) return fromInner;
    // A socket error: its errno code (Node's text, not the endpoint's) says what happened.
    const errno = [e?.code, (err as { cause?: { code?: unknown } })?.cause?.code, /\b(E[A-Z]{3,20})\b/.exec(String(e?.message ?? ''))?.[1]];
    const code = errno.find((c): c is string => typeof c === 'string' && /^E[A-Z0-9_]{1,30}$/.test(c));
    return new TargetError(
      'transient',
      'Unknown',
      `${this.description}: ${what}: ${code ? `could not connect: ${code}` : `unexpected error${safeErrorName(e?.name) ? ` (${safeErrorName(e?.name)})` : ''}`}`,
      { cause: err },
    );
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(err, what);
    }
  }

  private lockHeaders(lock: Retention | undefined, legalHold: boolean | undefined) {
    return {
      ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: wholeSecondUp(lock.retainUntil) } : {}),
      ...(legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
    };
  }

  async put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    const Key = this.full(key);
    let contentMd5 = options.contentMd5;
    let payload: Uint8Array | Readable;
    if (body instanceof Uint8Array) {
      if (body.length !== options.size)
        throw new TargetError(
          'permanent',
          'SizeMismatch',
          `${this.description}: put ${key}: body has ${body.length} bytes, expected ${options.size}`,
        );
      contentMd5 ??= md5Base64(body);
      payload = body;
    } else if (isOneShotStream(body)) {
      if (!contentMd5 && (options.lock || options.legalHold)) {
        throw new TargetError(
          'permanent',
          'InvalidRequest',
          `${this.description}: put ${key}: a locked upload from a stream needs its Content-MD5`,
        );
      }
      payload = body;
    } else {
      contentMd5 ??= await md5OfSlice(body);
      payload = sliceStream(body);
    }
    const out = await this.call(`put ${key}`, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#config.bucket,
          Key,
          Body: payload,
          ContentLength: options.size,
          ContentMD5: contentMd5,
          ContentType: options.contentType ?? 'application/octet-stream',
          Metadata: { sha256: options.sha256 },
          StorageClass: this.#config.storageClass as StorageClass | undefined,
          ...this.lockHeaders(options.lock, options.legalHold),
        }),
      ),
    );
    return { key, versionId: out.VersionId ?? 'null', etag: out.ETag, size: options.size, sha256: options.sha256 };
  }

  async head(key: string, versionId?: string): Promise<ObjectInfo> {
    const Key = this.full(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#config.bucket, Key, VersionId: versionId }));
      return {
        key,
        versionId: out.VersionId ?? 'null',
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        etag: out.ETag,
        sha256: out.Metadata?.sha256,
        retention:
          out.ObjectLockMode && out.ObjectLockRetainUntilDate
            ? { mode: out.ObjectLockMode as LockMode, retainUntil: out.ObjectLockRetainUntilDate }
            : null,
        legalHold: out.ObjectLockLegalHoldStatus === 'ON',
      };
    } catch (err) {
      throw await this.headError(err, `head ${key}`);
    }
  }

  /** A HEAD 404 has no body: it may be the bucket that is missing, which is permanent, not not-found. */
  private async headError(err: unknown, what: string): Promise<unknown> {
    const mapped = this.error(err, what);
    if (!isNotFound(mapped)) return mapped;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#config.bucket }));
    } catch (bucketErr) {
      if ((bucketErr as SdkError).$metadata?.httpStatusCode === 404) {
        return new TargetError('permanent', 'BucketNotFound', `${this.description}: ${what}: the bucket does not exist`, {
          status: 404,
          cause: err,
        });
      }
    }
    return mapped;
  }

  async get(key: string, versionId?: string, range?: ByteRange): Promise<Readable> {
    const Key = this.full(key);
    const out = await this.call(`get ${key}`, () =>
      this.#client.send(
        new GetObjectCommand({
          Bucket: this.#config.bucket,
          Key,
          VersionId: versionId,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      ),
    );
    if (!(out.Body instanceof Readable)) throw new TargetError('transient', 'ServerError', `${this.description}: get ${key}: no body`);
    return out.Body;
  }

  async *list(prefix: string): AsyncIterable<ObjectVersion> {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await this.call(`list ${prefix}`, () =>
        this.#client.send(
          new ListObjectVersionsCommand({ Bucket: this.#config.bucket, Prefix: this.prefix + prefix, KeyMarker, VersionIdMarker }),
        ),
      );
      for (const v of page.Versions ?? []) {
        if (!v.Key || !v.VersionId) continue;
        yield {
          key: v.Key.slice(this.prefix.length),
          versionId: v.VersionId,
          size: v.Size ?? 0,
          lastModified: v.LastModified ?? new Date(0),
          isLatest: v.IsLatest ?? false,
        };
      }
      if (!page.IsTruncated) return;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  }

  async getRetention(key: string, versionId: string): Promise<Retention | null> {
    const Key = this.full(key);
    try {
      const out = await this.#client.send(new GetObjectRetentionCommand({ Bucket: this.#config.bucket, Key, VersionId: versionId }));
      const r = out.Retention;
      return r?.Mode && r.RetainUntilDate ? { mode: r.Mode as LockMode, retainUntil: new Date(r.RetainUntilDate) } : null;
    } catch (err) {
      if (isLockConfigMissing(err)) return null;
      throw this.error(err, `get retention of ${key}`);
    }
  }

  async putRetention(key: string, versionId: string, retention: Retention): Promise<void> {
    const Key = this.full(key);
    // The server refuses too (COMPLIANCE always, GOVERNANCE without bypass); checking first gives one clear error everywhere.
    assertRetentionExtends(await this.getRetention(key, versionId), retention, `${this.description}: ${key} (${versionId})`);
    await this.call(`put retention on ${key}`, () =>
      this.#client.send(
        new PutObjectRetentionCommand({
          Bucket: this.#config.bucket,
          Key,
          VersionId: versionId,
          Retention: { Mode: retention.mode, RetainUntilDate: wholeSecondUp(retention.retainUntil) },
        }),
      ),
    );
  }

  async getLegalHold(key: string, versionId: string): Promise<boolean> {
    const Key = this.full(key);
    try {
      const out = await this.#client.send(new GetObjectLegalHoldCommand({ Bucket: this.#config.bucket, Key, VersionId: versionId }));
      return out.LegalHold?.Status === 'ON';
    } catch (err) {
      if (isLockConfigMissing(err)) return false;
      throw this.error(err, `get legal hold of ${key}`);
    }
  }

  async putLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    const Key = this.full(key);
    await this.call(`put legal hold on ${key}`, () =>
      this.#client.send(
        new PutObjectLegalHoldCommand({ Bucket: this.#config.bucket, Key, VersionId: versionId, LegalHold: { Status: on ? 'ON' : 'OFF' } }),
      ),
    );
  }

  async deleteVersion(key: string, versionId: string, options?: { bypassGovernance?: boolean }): Promise<void> {
    const Key = this.full(key);
    await this.call(`delete ${key} version ${versionId}`, () =>
      this.#client.send(
        new DeleteObjectCommand({
          Bucket: this.#config.bucket,
          Key,
          VersionId: versionId,
          BypassGovernanceRetention: options?.bypassGovernance || undefined,
        }),
      ),
    );
  }

  async createMultipart(key: string, options: MultipartOptions): Promise<{ uploadId: string }> {
    const Key = this.full(key);
    const out = await this.call(`create multipart upload ${key}`, () =>
      this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#config.bucket,
          Key,
          ContentType: options.contentType ?? 'application/octet-stream',
          Metadata: { sha256: options.sha256 },
          StorageClass: this.#config.storageClass as StorageClass | undefined,
          // RGW 16 accepts these here and does not apply them: the uploader reads retention back (ensureRetention).
          ...this.lockHeaders(options.lock, options.legalHold),
        }),
      ),
    );
    if (!out.UploadId)
      throw new TargetError('transient', 'ServerError', `${this.description}: create multipart upload ${key}: no upload id`);
    return { uploadId: out.UploadId };
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    const Key = this.full(key);
    const out = await this.call(`upload part ${partNumber} of ${key}`, () =>
      this.#client.send(
        new UploadPartCommand({
          Bucket: this.#config.bucket,
          Key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ContentMD5: options.contentMd5,
        }),
      ),
    );
    return { partNumber, etag: out.ETag ?? '', size: body.length };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const Key = this.full(key);
    const parts: UploadedPart[] = [];
    let PartNumberMarker: string | undefined;
    for (;;) {
      const page = await this.call(`list parts of ${key}`, () =>
        this.#client.send(new ListPartsCommand({ Bucket: this.#config.bucket, Key, UploadId: uploadId, PartNumberMarker })),
      );
      for (const p of page.Parts ?? [])
        if (p.PartNumber && p.ETag) parts.push({ partNumber: p.PartNumber, etag: p.ETag, size: p.Size ?? 0 });
      if (!page.IsTruncated) break;
      PartNumberMarker = page.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    const Key = this.full(key);
    const out = await this.call(`complete multipart upload of ${key}`, () =>
      this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#config.bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
    if (!out.VersionId)
      throw new TargetError(
        'permanent',
        'InvalidRequest',
        `${this.description}: ${key}: completed without a version id (is versioning on?)`,
      );
    // RGW 16 answers with an empty ETag here; HEAD has the real one.
    const size = parts.reduce((s, p) => s + p.size, 0);
    return { key, versionId: out.VersionId, etag: out.ETag || undefined, size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const Key = this.full(key);
    await this.call(`abort multipart upload of ${key}`, () =>
      this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#config.bucket, Key, UploadId: uploadId })),
    );
  }

  async listMultipartUploads(prefix: string): Promise<MultipartUpload[]> {
    const uploads: MultipartUpload[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.call(`list multipart uploads ${prefix}`, () =>
        this.#client.send(
          new ListMultipartUploadsCommand({ Bucket: this.#config.bucket, Prefix: this.prefix + prefix, KeyMarker, UploadIdMarker }),
        ),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId)
          uploads.push({ key: u.Key.slice(this.prefix.length), uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      }
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
    return uploads;
  }

  preflight(): Promise<PreflightReport> {
    const bucket = this.#config.bucket;
    // One call answers the first four checks: any HTTP answer means reachable; its error code
    // tells bad credentials from a missing bucket; success gives the versioning status.
    type Answer = { status?: string; err?: unknown };
    let first: Promise<Answer> | undefined;
    const versioning = (): Promise<Answer> =>
      (first ??= this.#client.send(new GetBucketVersioningCommand({ Bucket: bucket })).then(
        (o): Answer => ({ status: o.Status }),
        (err: unknown): Answer => ({ err }),
      ));
    const mapped = (err: unknown) => this.error(err, `bucket ${bucket}`) as TargetError;
    const answered = (err: unknown) => (err as SdkError).$metadata?.httpStatusCode !== undefined;

    const probes: PreflightProbes = {
      reachable: async () => {
        const { err } = await versioning();
        if (err && !answered(err)) throw mapped(err);
        return { ok: true, detail: `${this.#config.endpoint ?? `AWS ${this.#config.region}`} answers` };
      },
      credentials: async () => {
        const { err } = await versioning();
        if (err && mapped(err).code === 'InvalidCredentials') throw mapped(err);
        return { ok: true, detail: `access key ${this.#config.accessKeyId} accepted` };
      },
      bucket: async () => {
        const { err } = await versioning();
        if (err) {
          const m = mapped(err);
          if (m.code === 'BucketNotFound') return { ok: false, detail: `bucket ${bucket} does not exist` };
          throw m;
        }
        return { ok: true, detail: `bucket ${bucket} exists` };
      },
      versioning: async () => {
        const { status } = await versioning();
        return status === 'Enabled'
          ? { ok: true, detail: 'versioning is Enabled' }
          : { ok: false, detail: `no: versioning is ${status ?? 'off (never enabled)'}` };
      },
      objectLock: async () => {
        try {
          const out = await this.#client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
          const cfg = out.ObjectLockConfiguration;
          if (cfg?.ObjectLockEnabled !== 'Enabled') return { ok: false, detail: 'no: Object Lock is not enabled on this bucket' };
          const d = cfg.Rule?.DefaultRetention;
          const days = d?.Days ?? (d?.Years ? d.Years * 365 : undefined);
          const defaultRetention = d?.Mode && days ? { mode: d.Mode as LockMode, days } : undefined;
          return {
            ok: true,
            detail: `yes, enforced by the server; default retention: ${defaultRetention ? `${defaultRetention.mode} ${days} day${days === 1 ? '' : 's'}` : 'none'}`,
            defaultRetention,
          };
        } catch (err) {
          if (isLockConfigMissing(err)) {
            return {
              ok: false,
              detail:
                'no: the bucket was created without Object Lock, which can only be chosen when a bucket is created (make a new bucket with Object Lock on)',
            };
          }
          throw mapped(err);
        }
      },
    };
    return runPreflight(this, probes);
  }
}
