import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Xxh64 } from '@node-rs/xxhash';
import { countedReadStream } from '@studiovault/hashing';
import { isNotFound, TargetError } from './errors';
import { ensureRetention } from './retention';
import type { OffsiteTarget, Retention, TargetCapabilities, UploadedPart } from './target';

const MiB = 1024 * 1024;

export interface UploadFile {
  key: string;
  /** The local copy to send (read twice at most: a hashing pass, then the send). */
  path: string;
  size: number;
  /** From the catalog: stored with the object; the target must report it back. */
  sha256: string;
  /**
   * From the catalog, when known: the local bytes are checked against it (native xxh64, ~10 GB/s)
   * instead of SHA-256, so the send costs one MD5 pass (Content-MD5) and no SHA-256 pass.
   */
  xxh64?: string;
  lock?: Retention;
  legalHold?: boolean;
  contentType?: string;
}

export interface UploadOptions {
  /** Files of at least this size go multipart (default 64 MiB). */
  multipartThreshold?: number;
  /** Preferred part size (default 16 MiB); raised when the file would need too many parts. */
  partSize?: number;
  /** Parts in flight at once (default 4); memory is about (concurrency + 1) × part size. */
  concurrency?: number;
  /** A multipart upload started before (its id persisted by the caller): finished parts are not sent again. */
  resume?: { uploadId: string };
  /** Persist the id before any part is sent, so that a restart can resume. */
  onMultipartCreated?: (uploadId: string) => void | Promise<void>;
  onPartUploaded?: (part: UploadedPart) => void | Promise<void>;
  /** Buffers for parts, shared by the uploads of a run: memory stays at the pool's size whatever the traffic. */
  partBuffers?: BufferPool;
  /** Called before each PUT or part is sent, with its size: a bandwidth cap waits here. */
  beforeSend?: (bytes: number) => Promise<void>;
}

export interface UploadOutcome {
  key: string;
  versionId: string;
  size: number;
  sha256: string;
  etag?: string;
  multipart: boolean;
  /** Parts found finished on the target and not sent again (resume). */
  partsReused: number;
  partsSent: number;
  /** Read back from the target after the upload: the proof for "immutable". */
  retention: Retention | null;
  /** The lock headers had not taken and PutObjectRetention set the retention afterwards. */
  retentionFixed: boolean;
  legalHold: boolean;
}

/**
 * A fixed set of part buffers, reused: a multipart upload takes one per part in flight and gives
 * it back when the part is sent, so a run's part memory is `count × size` (no garbage for the
 * GC to fall behind on). A request for a larger part allocates outside the pool.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private made = 0;
  private readonly waiting: ((b: Buffer) => void)[] = [];

  constructor(
    readonly size: number,
    readonly count: number,
  ) {}

  async acquire(length: number): Promise<Buffer> {
    if (length > this.size) return Buffer.allocUnsafe(length);
    const b = this.free.pop();
    if (b) return b;
    if (this.made < this.count) {
      this.made++;
      return Buffer.allocUnsafe(this.size);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(b: Buffer): void {
    if (b.length !== this.size) return;
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/** Part size for a file: the preferred size, raised to fit the target's part limits. */
export function choosePartSize(size: number, caps: TargetCapabilities, preferred = 16 * MiB): number {
  const fit = Math.ceil(size / caps.maxParts);
  const partSize = Math.max(preferred, fit, caps.minPartSize);
  if (partSize > caps.maxPartSize)
    throw new TargetError(
      'permanent',
      'InvalidRequest',
      `${size} bytes do not fit in ${caps.maxParts} parts of at most ${caps.maxPartSize} bytes`,
    );
  return Math.ceil(partSize / MiB) * MiB;
}

function stripEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/** Checks the local bytes against the catalog: xxh64 when the catalog has it, else SHA-256. */
function localDigest(file: UploadFile): { update(b: Buffer): void; result(): { name: string; value: string; ok: boolean } } {
  if (file.xxh64) {
    const h = new Xxh64();
    return {
      update: (b) => void h.update(b),
      result: () => {
        const value = h.digest().toString(16).padStart(16, '0');
        return { name: 'xxh64', value, ok: value === file.xxh64 };
      },
    };
  }
  const h = createHash('sha256');
  return {
    update: (b) => void h.update(b),
    result: () => {
      const value = h.digest('hex');
      return { name: 'sha256', value, ok: value === file.sha256 };
    },
  };
}

async function hashFile(file: UploadFile): Promise<{ md5: string; local: { name: string; value: string; ok: boolean }; bytes: number }> {
  const md5 = createHash('md5');
  const local = localDigest(file);
  let bytes = 0;
  for await (const chunk of countedReadStream(file.path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    local.update(chunk);
    bytes += chunk.length;
  }
  return { md5: md5.digest('base64'), local: local.result(), bytes };
}

/**
 * The local copy being sent does not match the catalog: a fault of that copy, not of the target
 * (the caller reports it and reads another copy; the target is not "failing" for it).
 */
export class LocalCopyDamaged extends Error {
  override name = 'LocalCopyDamaged';
  constructor(
    readonly path: string,
    readonly kind: 'mismatch' | 'short' | 'long',
    message: string,
  ) {
    super(message);
  }
}

function localMismatch(file: UploadFile, bytes: number, what: string): LocalCopyDamaged {
  const kind = bytes < file.size ? 'short' : bytes > file.size ? 'long' : 'mismatch';
  return new LocalCopyDamaged(file.path, kind, `${file.path}: ${what} (expected ${file.size} bytes, sha256 ${file.sha256})`);
}

function mismatch(file: UploadFile, what: string): TargetError {
  return new TargetError('permanent', 'BadDigest', `${file.path}: ${what} (expected ${file.size} bytes, sha256 ${file.sha256})`);
}

/**
 * Sends one local file to a target and proves it landed: a single PUT below the multipart
 * threshold, a resumable multipart upload above it. The bytes sent are hashed on the way and
 * must match the catalog's SHA-256; afterwards the target's HEAD must report the same size and
 * SHA-256, and a wanted lock (and legal hold) is read back and set again if it did not take.
 *
 * This is the building block of the off-site upload engine, which adds the persisted state
 * (onMultipartCreated / onPartUploaded), scheduling, bandwidth limits and parallel files.
 */
export async function uploadFile(target: OffsiteTarget, file: UploadFile, options: UploadOptions = {}): Promise<UploadOutcome> {
  const threshold = options.multipartThreshold ?? 64 * MiB;
  const useMultipart = target.capabilities.multipart && (file.size >= threshold || options.resume !== undefined);
  const sent = useMultipart ? await sendMultipart(target, file, options) : await sendSingle(target, file, options);

  const info = await target.head(file.key, sent.versionId);
  if (info.size !== file.size) throw mismatch(file, `the target reports ${info.size} bytes for ${file.key}`);
  if (info.sha256 !== file.sha256) throw mismatch(file, `the target reports sha256 ${info.sha256 ?? 'none'} for ${file.key}`);

  let retention: Retention | null = null;
  let retentionFixed = false;
  if (file.lock) {
    const ensured = await ensureRetention(target, file.key, sent.versionId, file.lock);
    retention = ensured.retention;
    retentionFixed = ensured.fixed;
  }
  let legalHold = false;
  if (file.legalHold) {
    legalHold = await target.getLegalHold(file.key, sent.versionId);
    if (!legalHold) {
      await target.putLegalHold(file.key, sent.versionId, true);
      legalHold = await target.getLegalHold(file.key, sent.versionId);
      if (!legalHold)
        throw new TargetError(
          'permanent',
          'RetentionNotApplied',
          `${target.description}: legal hold on ${file.key} (${sent.versionId}) does not hold`,
        );
    }
  }
  return { key: file.key, size: file.size, sha256: file.sha256, retention, retentionFixed, legalHold, ...sent };
}

async function sendSingle(target: OffsiteTarget, file: UploadFile, options: UploadOptions) {
  const hashed = await hashFile(file);
  if (hashed.bytes !== file.size || !hashed.local.ok)
    throw localMismatch(file, hashed.bytes, `the local copy has ${hashed.bytes} bytes, ${hashed.local.name} ${hashed.local.value}`);
  await options.beforeSend?.(file.size);
  const put = await target.put(
    file.key,
    { path: file.path, length: file.size },
    {
      size: file.size,
      sha256: file.sha256,
      contentMd5: hashed.md5,
      lock: file.lock,
      legalHold: file.legalHold,
      contentType: file.contentType,
    },
  );
  return { versionId: put.versionId, etag: put.etag, multipart: false, partsReused: 0, partsSent: 0 };
}

async function sendMultipart(target: OffsiteTarget, file: UploadFile, options: UploadOptions) {
  const partSize = choosePartSize(file.size, target.capabilities, options.partSize);
  const partCount = Math.max(1, Math.ceil(file.size / partSize));
  const concurrency = Math.max(1, options.concurrency ?? 4);

  let uploadId = options.resume?.uploadId;
  const finished = new Map<number, UploadedPart>();
  if (uploadId) {
    try {
      for (const p of await target.listParts(file.key, uploadId)) finished.set(p.partNumber, p);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      uploadId = undefined; // completed, aborted or expired meanwhile: start over
    }
  }
  if (!uploadId) {
    uploadId = (
      await target.createMultipart(file.key, {
        size: file.size,
        sha256: file.sha256,
        lock: file.lock,
        legalHold: file.legalHold,
        contentType: file.contentType,
      })
    ).uploadId;
    await options.onMultipartCreated?.(uploadId);
  }
  const id = uploadId;

  const parts: UploadedPart[] = new Array(partCount);
  const local = localDigest(file);
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  let reused = 0;
  let sentCount = 0;
  const fh = await open(file.path, 'r');
  try {
    try {
      await readAndSend();
    } catch (err) {
      firstError ??= err;
    }
    await Promise.all(inFlight); // never leave a part in flight behind a thrown error
  } finally {
    await fh.close();
  }
  if (firstError !== undefined) throw firstError;

  async function readAndSend(): Promise<void> {
    for (let n = 1; n <= partCount && firstError === undefined; n++) {
      const offset = (n - 1) * partSize;
      const length = Math.min(partSize, file.size - offset);
      const whole = options.partBuffers ? await options.partBuffers.acquire(length) : Buffer.allocUnsafe(length);
      const release = () => options.partBuffers?.release(whole);
      const buf = whole.subarray(0, length);
      let got = 0;
      try {
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) throw localMismatch(file, offset + got, `the local copy ends at ${offset + got} bytes`);
          got += bytesRead;
        }
      } catch (err) {
        release();
        throw err;
      }
      local.update(buf);
      const md5 = createHash('md5').update(buf);
      const md5hex = md5.copy().digest('hex');
      const prior = finished.get(n);
      // A finished part is trusted only if its ETag is the MD5 of our bytes at that place.
      if (prior && prior.size === length && stripEtag(prior.etag) === md5hex) {
        parts[n - 1] = prior;
        reused++;
        release();
        continue;
      }
      await options.beforeSend?.(length);
      const task = target
        .uploadPart(file.key, id, n, buf, { contentMd5: md5.digest('base64') })
        .then(async (part) => {
          parts[n - 1] = part;
          sentCount++;
          await options.onPartUploaded?.(part);
        })
        .catch((err: unknown) => {
          firstError ??= err;
        })
        .finally(release);
      const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }

  const digest = local.result();
  if (!digest.ok) {
    await target.abortMultipart(file.key, id).catch(() => undefined);
    throw localMismatch(file, file.size, `the local copy hashes to ${digest.name} ${digest.value}`);
  }
  const done = await target.completeMultipart(file.key, id, parts);
  return { versionId: done.versionId, etag: done.etag, multipart: true, partsReused: reused, partsSent: sentCount };
}

/**
 * Aborts unfinished multipart uploads under a prefix that started before `olderThan`, except
 * those in `keep` (uploads a run is resuming). Returns what it aborted.
 */
export async function abortStaleMultipartUploads(
  target: OffsiteTarget,
  prefix: string,
  options: { olderThan: Date; keep?: ReadonlySet<string> },
): Promise<{ key: string; uploadId: string }[]> {
  const aborted: { key: string; uploadId: string }[] = [];
  for (const u of await target.listMultipartUploads(prefix)) {
    if (options.keep?.has(u.uploadId) || u.initiated.getTime() >= options.olderThan.getTime()) continue;
    try {
      await target.abortMultipart(u.key, u.uploadId);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    aborted.push({ key: u.key, uploadId: u.uploadId });
  }
  return aborted;
}
