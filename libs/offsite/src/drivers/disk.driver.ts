import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, chmod, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fromSystemError, isTargetError, TargetError } from '../errors';
import { runPreflight, type PreflightProbes } from '../preflight';
import { assertRetentionExtends } from '../retention';
import { isOneShotStream } from '../retrying.target';
import type {
  Body,
  ByteRange,
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
const MARKER = 'studiovault-target.json';
const VERSIONS = '.versions';

export interface DiskTargetConfig {
  /** The folder on the USB drive or the second share (mounted on the NAS). */
  root: string;
  /** The admin takes this drive out of the building in turns. */
  rotatesOffsite?: boolean;
}

/** Stored in <root>/studiovault-target.json when the folder is made a target (the bucket's settings). */
export interface DiskTargetSettings {
  objectLock: boolean;
  defaultRetention?: { mode: LockMode; days: number };
}

interface Marker extends DiskTargetSettings {
  format: 1;
  createdAt: string;
}

interface VersionMeta {
  key: string;
  versionId: string;
  size: number;
  sha256: string;
  etag: string;
  lastModified: string;
  contentType?: string;
}

interface UploadMeta {
  key: string;
  uploadId: string;
  initiated: string;
  options: { size: number; sha256: string; lock?: { mode: LockMode; retainUntil: string }; legalHold?: boolean; contentType?: string };
}

const README = `This folder is a StudioVault off-site target. It can be restored without StudioVault:

  objects/<key>.versions/<version>.data       the bytes of one version of <key> (read-only file)
  objects/<key>.versions/<version>.json       its size, SHA-256, MD5 and time
  objects/<key>.versions/<version>.retention.<MODE>.<until>   retention set on it (the latest date wins)
  objects/<key>.versions/<version>.legal-hold present while a legal hold is on
  multipart/, tmp/                            unfinished uploads; safe to ignore

Versions sort by time: the last one is the newest. Retention here is kept by StudioVault, not by
the disk: anyone holding the drive can still delete files.
`;

function compactIso(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

function parseCompactIso(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(s);
  if (!m) return null;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

let lastStamp = '';
let sequence = 0;
/** Sortable by time, unique: 20261126T120102.123Z-0000-3fa2c1 → "20261126T120102123Z-0000-3fa2c1". */
function newId(): string {
  const stamp = compactIso(new Date()).replace('.', '');
  sequence = stamp === lastStamp ? sequence + 1 : 0;
  lastStamp = stamp;
  return `${stamp}-${sequence.toString().padStart(4, '0')}-${randomBytes(3).toString('hex')}`;
}

const STRENGTH: Record<LockMode, number> = { GOVERNANCE: 1, COMPLIANCE: 2 };

function checkKey(key: string): void {
  const bad = (why: string) =>
    new TargetError('permanent', 'InvalidKey', `invalid object key ${JSON.stringify(key.slice(0, 200))}: ${why}`);
  if (key.length === 0 || Buffer.byteLength(key) > 1024) throw bad('empty or longer than 1024 bytes');
  if (key.includes('\0') || key.includes('\\')) throw bad('contains NUL or a backslash');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw bad('empty, "." or ".." path segment');
    if (segment.endsWith(VERSIONS)) throw bad(`a segment ends with "${VERSIONS}"`);
  }
}

function checkPrefix(prefix: string): void {
  if (prefix.includes('\0') || prefix.includes('\\') || prefix.split('/').some((s) => s === '..' || s === '.')) {
    throw new TargetError('permanent', 'InvalidKey', `invalid prefix ${JSON.stringify(prefix.slice(0, 200))}`);
  }
}

async function* chunksOf(body: Body): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
  } else if (isOneShotStream(body)) {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  } else {
    const offset = body.offset ?? 0;
    if (body.length === 0) return;
    const end = body.length === undefined ? undefined : offset + body.length - 1;
    for await (const chunk of createReadStream(body.path, { start: offset, end, highWaterMark: 4 * MiB }) as AsyncIterable<Buffer>)
      yield chunk;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Written {
  bytes: number;
  md5: Buffer;
  sha256: string;
}

/** Writes chunks to a new file, hashing on the way, and fsyncs it. The file is removed on any error. */
async function writeSynced(path: string, chunks: AsyncIterable<Uint8Array>): Promise<Written> {
  const fh = await open(path, 'wx', 0o600);
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      md5.update(chunk);
      sha.update(chunk);
      let done = 0;
      while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      bytes += chunk.length;
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return { bytes, md5: md5.digest(), sha256: sha.digest('hex') };
}

/**
 * A local folder as an off-site target (a USB drive that rotates off-site, a second NAS
 * share): versioned like an S3 bucket, written durably (temp file, fsync, rename, fsync the
 * folder), with retention and legal hold emulated in files beside each version. The driver
 * refuses deletes and shorter retention; the disk itself does not (capabilities.objectLock is
 * 'emulated').
 */
export class DiskTarget implements OffsiteTarget {
  readonly capabilities: TargetCapabilities;
  readonly description: string;
  private readonly root: string;
  private cachedSettings?: Marker;

  constructor(config: DiskTargetConfig) {
    this.root = config.root;
    this.description = `disk target ${config.root}`;
    this.capabilities = {
      kind: 'disk',
      versioning: true,
      objectLock: 'emulated',
      multipart: true,
      minPartSize: 5 * MiB,
      maxPartSize: 5 * 1024 * MiB,
      maxParts: 10_000,
      rotatesOffsite: config.rotatesOffsite ?? false,
    };
  }

  /** Makes a folder a target (like creating a bucket): its lock settings are fixed from then on. */
  static async initialize(root: string, settings: DiskTargetSettings): Promise<void> {
    await mkdir(root, { recursive: true });
    for (const d of ['objects', 'multipart', 'tmp']) await mkdir(join(root, d), { recursive: true });
    const marker: Marker = { format: 1, createdAt: new Date().toISOString(), ...settings };
    for (const [name, text] of [
      ['README.txt', README],
      [MARKER, `${JSON.stringify(marker, null, 2)}\n`],
    ]) {
      const tmp = join(root, 'tmp', `${newId()}.${name}`);
      await writeSynced(tmp, chunksOf(Buffer.from(text)));
      await rename(tmp, join(root, name));
    }
    await fsyncDir(root);
  }

  // ---- paths ----

  private versionsDir(key: string): string {
    return join(this.root, 'objects', ...`${key}${VERSIONS}`.split('/'));
  }
  private uploadDir(uploadId: string): string {
    if (!/^[0-9A-Za-z-]+$/.test(uploadId))
      throw new TargetError('not-found', 'NotFound', `${this.description}: no multipart upload ${JSON.stringify(uploadId.slice(0, 100))}`);
    return join(this.root, 'multipart', uploadId);
  }
  private tmpPath(): string {
    return join(this.root, 'tmp', `${newId()}.tmp`);
  }

  // ---- errors ----

  /** Turns a file-system error into a TargetError; a missing file is told apart from a missing folder or marker. */
  private async fail(err: unknown, what: string): Promise<never> {
    if (isTargetError(err)) throw err;
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') {
      const rootThere = await stat(this.root).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!rootThere)
        throw new TargetError('permanent', 'Unreachable', `${this.description}: the folder is not there (is the drive mounted?)`, {
          cause: err,
        });
      const markerThere = await stat(join(this.root, MARKER)).then(
        () => true,
        () => false,
      );
      if (!markerThere)
        throw new TargetError(
          'permanent',
          'BucketNotFound',
          `${this.description}: not a StudioVault target folder (${MARKER} is missing)`,
          { cause: err },
        );
      throw new TargetError('not-found', 'NotFound', `${this.description}: ${what}: not found`, { cause: err });
    }
    throw fromSystemError(err, `${this.description}: ${what}`);
  }

  private async settings(): Promise<Marker> {
    if (this.cachedSettings) return this.cachedSettings;
    let text: string;
    try {
      text = await readFile(join(this.root, MARKER), 'utf8');
    } catch (err) {
      return this.fail(err, MARKER);
    }
    this.cachedSettings = JSON.parse(text) as Marker;
    return this.cachedSettings;
  }

  private async checkLockOptions(lock: Retention | undefined, legalHold: boolean | undefined): Promise<void> {
    const settings = await this.settings();
    if ((lock || legalHold) && !settings.objectLock) {
      throw new TargetError('permanent', 'ObjectLockNotEnabled', `${this.description}: Object Lock is not enabled for this folder`);
    }
    if (lock && lock.retainUntil.getTime() <= Date.now()) {
      throw new TargetError(
        'permanent',
        'InvalidRequest',
        `${this.description}: retain-until ${lock.retainUntil.toISOString()} is in the past`,
      );
    }
  }

  // ---- versions ----

  private async readMeta(key: string, versionId: string | undefined): Promise<VersionMeta> {
    checkKey(key);
    const dir = this.versionsDir(key);
    try {
      await this.settings(); // a folder that is not a target is not "object not found"
      let id = versionId;
      if (id === undefined) {
        id = (await this.versionIds(dir))[0];
        if (id === undefined) throw new TargetError('not-found', 'NotFound', `${this.description}: ${key}: not found`);
      } else if (!/^[0-9A-Za-z-]+$/.test(id)) {
        throw new TargetError('not-found', 'NotFound', `${this.description}: ${key} has no version ${JSON.stringify(id.slice(0, 100))}`);
      }
      return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as VersionMeta;
    } catch (err) {
      return this.fail(err, versionId ? `${key} version ${versionId}` : key);
    }
  }

  /** Committed versions (those with their .json), newest first. */
  private async versionIds(dir: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .sort()
      .reverse();
  }

  private async retentionOf(dir: string, versionId: string): Promise<{ retention: Retention | null; legalHold: boolean }> {
    const set: Retention[] = [];
    let legalHold = false;
    for (const name of await readdir(dir)) {
      if (!name.startsWith(`${versionId}.`)) continue;
      const rest = name.slice(versionId.length + 1);
      if (rest === 'legal-hold') legalHold = true;
      const m = /^retention\.(GOVERNANCE|COMPLIANCE)\.(.+)$/.exec(rest);
      const until = m ? parseCompactIso(m[2]) : null;
      if (m && until) set.push({ mode: m[1] as LockMode, retainUntil: until });
    }
    // Every retention ever set is kept as a file; the one reaching furthest is in force (a
    // mode changes only after the old retention ended, so that one is also the latest set).
    const retention = set.reduce<Retention | null>(
      (acc, r) =>
        !acc ||
        r.retainUntil > acc.retainUntil ||
        (r.retainUntil.getTime() === acc.retainUntil.getTime() && STRENGTH[r.mode] > STRENGTH[acc.mode])
          ? r
          : acc,
      null,
    );
    return { retention, legalHold };
  }

  private async createEmpty(path: string): Promise<void> {
    try {
      const fh = await open(path, 'wx', 0o444);
      await fh.close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  /** Moves a synced temp file in as a new version, with its retention and legal hold; the .json last, as the commit. */
  private async commitVersion(
    key: string,
    tmp: string,
    written: Written,
    options: { sha256: string; contentType?: string; lock?: Retention; legalHold?: boolean },
    etag: string,
  ): Promise<PutResult> {
    const settings = await this.settings();
    const dir = this.versionsDir(key);
    await mkdir(dir, { recursive: true });
    const versionId = newId();
    const data = join(dir, `${versionId}.data`);
    await chmod(tmp, 0o444);
    await rename(tmp, data);
    const lock =
      options.lock ??
      (settings.objectLock && settings.defaultRetention
        ? { mode: settings.defaultRetention.mode, retainUntil: new Date(Date.now() + settings.defaultRetention.days * 86_400_000) }
        : undefined);
    if (lock) await this.createEmpty(join(dir, `${versionId}.retention.${lock.mode}.${compactIso(lock.retainUntil)}`));
    if (options.legalHold) await this.createEmpty(join(dir, `${versionId}.legal-hold`));
    const meta: VersionMeta = {
      key,
      versionId,
      size: written.bytes,
      sha256: written.sha256,
      etag,
      lastModified: new Date().toISOString(),
      ...(options.contentType ? { contentType: options.contentType } : {}),
    };
    const metaTmp = this.tmpPath();
    await writeSynced(metaTmp, chunksOf(Buffer.from(`${JSON.stringify(meta, null, 2)}\n`)));
    await rename(metaTmp, join(dir, `${versionId}.json`));
    await fsyncDir(dir);
    await fsyncDir(dirname(dir));
    return { key, versionId, etag, size: written.bytes, sha256: written.sha256 };
  }

  async put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    checkKey(key);
    const tmp = this.tmpPath();
    try {
      await this.checkLockOptions(options.lock, options.legalHold);
      const written = await writeSynced(tmp, chunksOf(body));
      const problem =
        written.bytes !== options.size
          ? new TargetError(
              'permanent',
              'SizeMismatch',
              `${this.description}: ${key}: got ${written.bytes} bytes, expected ${options.size}`,
            )
          : options.contentMd5 && written.md5.toString('base64') !== options.contentMd5
            ? new TargetError('permanent', 'BadDigest', `${this.description}: ${key}: Content-MD5 does not match the bytes`)
            : written.sha256 !== options.sha256
              ? new TargetError(
                  'permanent',
                  'BadDigest',
                  `${this.description}: ${key}: SHA-256 ${written.sha256} does not match the expected ${options.sha256}`,
                )
              : null;
      if (problem) throw problem;
      return await this.commitVersion(key, tmp, written, options, written.md5.toString('hex'));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      return this.fail(err, `put ${key}`);
    }
  }

  async head(key: string, versionId?: string): Promise<ObjectInfo> {
    const meta = await this.readMeta(key, versionId);
    try {
      const { retention, legalHold } = await this.retentionOf(this.versionsDir(key), meta.versionId);
      return {
        key,
        versionId: meta.versionId,
        size: meta.size,
        lastModified: new Date(meta.lastModified),
        etag: meta.etag,
        sha256: meta.sha256,
        retention,
        legalHold,
      };
    } catch (err) {
      return this.fail(err, `head ${key}`);
    }
  }

  async get(key: string, versionId?: string, range?: ByteRange): Promise<Readable> {
    const meta = await this.readMeta(key, versionId);
    if (range && (range.start < 0 || range.end < range.start || range.start >= meta.size)) {
      throw new TargetError(
        'permanent',
        'InvalidRequest',
        `${this.description}: ${key}: range ${range.start}-${range.end} is outside ${meta.size} bytes`,
      );
    }
    try {
      const fh = await open(join(this.versionsDir(key), `${meta.versionId}.data`), 'r');
      return fh.createReadStream(range ? { start: range.start, end: Math.min(range.end, meta.size - 1) } : {});
    } catch (err) {
      return this.fail(err, `get ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectVersion> {
    checkPrefix(prefix);
    const base = join(this.root, 'objects');
    const keys: string[] = [];
    try {
      await this.settings();
      const start = prefix.includes('/') ? join(base, ...prefix.slice(0, prefix.lastIndexOf('/')).split('/')) : base;
      const walk = async (dir: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw err;
        }
        for (const e of entries) {
          if (!e.isDirectory()) continue;
          const full = join(dir, e.name);
          if (e.name.endsWith(VERSIONS)) {
            const key = relative(base, full).split(sep).join('/').slice(0, -VERSIONS.length);
            if (key.startsWith(prefix)) keys.push(key);
          } else {
            await walk(full);
          }
        }
      };
      await walk(start);
    } catch (err) {
      await this.fail(err, `list ${prefix}`);
    }
    keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const key of keys) {
      const dir = this.versionsDir(key);
      let first = true;
      for (const id of await this.versionIds(dir)) {
        let meta: VersionMeta;
        try {
          meta = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as VersionMeta;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
          throw err;
        }
        yield { key, versionId: id, size: meta.size, lastModified: new Date(meta.lastModified), isLatest: first };
        first = false;
      }
    }
  }

  async getRetention(key: string, versionId: string): Promise<Retention | null> {
    return (await this.head(key, versionId)).retention;
  }

  async putRetention(key: string, versionId: string, retention: Retention): Promise<void> {
    const info = await this.head(key, versionId);
    await this.checkLockOptions(retention, false);
    assertRetentionExtends(info.retention, retention, `${this.description}: ${key} (${versionId})`);
    const dir = this.versionsDir(key);
    try {
      await this.createEmpty(join(dir, `${versionId}.retention.${retention.mode}.${compactIso(retention.retainUntil)}`));
      await fsyncDir(dir);
    } catch (err) {
      return this.fail(err, `put retention ${key}`);
    }
  }

  async getLegalHold(key: string, versionId: string): Promise<boolean> {
    return (await this.head(key, versionId)).legalHold;
  }

  async putLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    await this.head(key, versionId);
    await this.checkLockOptions(undefined, true);
    const path = join(this.versionsDir(key), `${versionId}.legal-hold`);
    try {
      if (on) await this.createEmpty(path);
      else await unlink(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      await fsyncDir(dirname(path));
    } catch (err) {
      return this.fail(err, `put legal hold ${key}`);
    }
  }

  async deleteVersion(key: string, versionId: string, options?: { bypassGovernance?: boolean }): Promise<void> {
    const info = await this.head(key, versionId);
    const what = `${this.description}: ${key} (${versionId})`;
    if (info.legalHold) throw new TargetError('permanent', 'ObjectLocked', `${what}: a legal hold is on`, { status: 403 });
    const r = info.retention;
    if (r && r.retainUntil.getTime() > Date.now() && (r.mode === 'COMPLIANCE' || !options?.bypassGovernance)) {
      throw new TargetError('permanent', 'ObjectLocked', `${what}: under ${r.mode} retention until ${r.retainUntil.toISOString()}`, {
        status: 403,
      });
    }
    const dir = this.versionsDir(key);
    try {
      await unlink(join(dir, `${versionId}.json`)); // uncommit first: a crash leaves an unlisted leftover, never a broken version
      for (const name of await readdir(dir)) if (name.startsWith(`${versionId}.`)) await unlink(join(dir, name));
      await fsyncDir(dir);
      await rmdir(dir).catch(() => undefined); // only when empty
    } catch (err) {
      return this.fail(err, `delete ${key} version ${versionId}`);
    }
  }

  // ---- multipart ----

  private async readUpload(key: string, uploadId: string): Promise<UploadMeta> {
    checkKey(key);
    try {
      const meta = JSON.parse(await readFile(join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadMeta;
      if (meta.key !== key) throw new TargetError('not-found', 'NotFound', `${this.description}: upload ${uploadId} is not for ${key}`);
      return meta;
    } catch (err) {
      return this.fail(err, `multipart upload ${uploadId}`);
    }
  }

  async createMultipart(key: string, options: MultipartOptions): Promise<{ uploadId: string }> {
    checkKey(key);
    try {
      await this.checkLockOptions(options.lock, options.legalHold);
      const uploadId = newId();
      const dir = this.uploadDir(uploadId);
      await mkdir(dir, { recursive: true });
      const meta: UploadMeta = {
        key,
        uploadId,
        initiated: new Date().toISOString(),
        options: {
          size: options.size,
          sha256: options.sha256,
          ...(options.lock ? { lock: { mode: options.lock.mode, retainUntil: options.lock.retainUntil.toISOString() } } : {}),
          ...(options.legalHold ? { legalHold: true } : {}),
          ...(options.contentType ? { contentType: options.contentType } : {}),
        },
      };
      const tmp = this.tmpPath();
      await writeSynced(tmp, chunksOf(Buffer.from(JSON.stringify(meta))));
      await rename(tmp, join(dir, 'upload.json'));
      await fsyncDir(dir);
      await fsyncDir(dirname(dir));
      return { uploadId };
    } catch (err) {
      return this.fail(err, `create multipart upload ${key}`);
    }
  }

  private async partFiles(uploadId: string): Promise<UploadedPart[]> {
    const dir = this.uploadDir(uploadId);
    const parts: UploadedPart[] = [];
    for (const name of await readdir(dir)) {
      const m = /^part-(\d{5})-([0-9a-f]{32})$/.exec(name);
      if (!m) continue;
      parts.push({ partNumber: Number(m[1]), etag: m[2], size: (await stat(join(dir, name))).size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    await this.readUpload(key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > this.capabilities.maxParts) {
      throw new TargetError(
        'permanent',
        'InvalidRequest',
        `${this.description}: part number ${partNumber} is outside 1..${this.capabilities.maxParts}`,
      );
    }
    const tmp = this.tmpPath();
    try {
      const written = await writeSynced(tmp, chunksOf(body));
      if (written.md5.toString('base64') !== options.contentMd5) {
        throw new TargetError(
          'permanent',
          'BadDigest',
          `${this.description}: ${key} part ${partNumber}: Content-MD5 does not match the bytes`,
        );
      }
      const dir = this.uploadDir(uploadId);
      const etag = written.md5.toString('hex');
      const prefix = `part-${String(partNumber).padStart(5, '0')}-`;
      await rename(tmp, join(dir, `${prefix}${etag}`));
      for (const name of await readdir(dir)) if (name.startsWith(prefix) && name !== `${prefix}${etag}`) await unlink(join(dir, name));
      await fsyncDir(dir);
      return { partNumber, etag, size: written.bytes };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      return this.fail(err, `upload part ${partNumber} of ${key}`);
    }
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    await this.readUpload(key, uploadId);
    try {
      return await this.partFiles(uploadId);
    } catch (err) {
      return this.fail(err, `list parts of ${key}`);
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    const upload = await this.readUpload(key, uploadId);
    const invalid = (why: string) => new TargetError('permanent', 'InvalidRequest', `${this.description}: cannot complete ${key}: ${why}`);
    const tmp = this.tmpPath();
    try {
      const stored = new Map((await this.partFiles(uploadId)).map((p) => [p.partNumber, p]));
      if (parts.length === 0) throw invalid('no parts');
      const chosen: UploadedPart[] = [];
      parts.forEach((p, i) => {
        const s = stored.get(p.partNumber);
        if (i > 0 && p.partNumber <= parts[i - 1].partNumber) throw invalid('parts are not in ascending order');
        if (!s || s.etag !== p.etag.replace(/"/g, '').toLowerCase()) throw invalid(`part ${p.partNumber} was not uploaded with that ETag`);
        if (i < parts.length - 1 && s.size < this.capabilities.minPartSize)
          throw invalid(`part ${p.partNumber} is smaller than ${this.capabilities.minPartSize} bytes`);
        chosen.push(s);
      });
      const dir = this.uploadDir(uploadId);
      const root = this.root;
      const written = await writeSynced(
        tmp,
        (async function* () {
          for (const p of chosen) {
            for await (const chunk of createReadStream(
              join(root, 'multipart', uploadId, `part-${String(p.partNumber).padStart(5, '0')}-${p.etag}`),
            ) as AsyncIterable<Buffer>)
              yield chunk;
          }
        })(),
      );
      const o = upload.options;
      if (written.bytes !== o.size)
        throw new TargetError(
          'permanent',
          'SizeMismatch',
          `${this.description}: ${key}: parts add up to ${written.bytes} bytes, expected ${o.size}`,
        );
      if (written.sha256 !== o.sha256)
        throw new TargetError(
          'permanent',
          'BadDigest',
          `${this.description}: ${key}: parts hash to ${written.sha256}, expected ${o.sha256}`,
        );
      const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')));
      const etag = `${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`;
      const lock = o.lock ? { mode: o.lock.mode, retainUntil: new Date(o.lock.retainUntil) } : undefined;
      const result = await this.commitVersion(
        key,
        tmp,
        written,
        { sha256: o.sha256, contentType: o.contentType, lock, legalHold: o.legalHold },
        etag,
      );
      await rm(dir, { recursive: true, force: true });
      return result;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      return this.fail(err, `complete multipart upload of ${key}`);
    }
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.readUpload(key, uploadId);
    try {
      await rm(this.uploadDir(uploadId), { recursive: true, force: true });
    } catch (err) {
      return this.fail(err, `abort multipart upload of ${key}`);
    }
  }

  async listMultipartUploads(prefix: string): Promise<MultipartUpload[]> {
    checkPrefix(prefix);
    try {
      await this.settings();
      const uploads: MultipartUpload[] = [];
      for (const id of await readdir(join(this.root, 'multipart'))) {
        let meta: UploadMeta;
        try {
          meta = JSON.parse(await readFile(join(this.root, 'multipart', id, 'upload.json'), 'utf8')) as UploadMeta;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // being created or aborted
          throw err;
        }
        if (meta.key.startsWith(prefix)) uploads.push({ key: meta.key, uploadId: meta.uploadId, initiated: new Date(meta.initiated) });
      }
      return uploads.sort((a, b) => (a.key === b.key ? a.initiated.getTime() - b.initiated.getTime() : a.key < b.key ? -1 : 1));
    } catch (err) {
      return this.fail(err, `list multipart uploads ${prefix}`);
    }
  }

  // ---- preflight ----

  preflight(): Promise<PreflightReport> {
    const root = this.root;
    const probes: PreflightProbes = {
      reachable: async () => {
        const st = await stat(root).catch(() => null);
        if (!st) return { ok: false, detail: `folder ${root} does not exist (is the drive mounted?)` };
        if (!st.isDirectory()) return { ok: false, detail: `${root} is not a folder` };
        return { ok: true, detail: `folder ${root} is there` };
      },
      credentials: async () => {
        try {
          await access(root, constants.R_OK | constants.W_OK | constants.X_OK);
          return { ok: true, detail: `StudioVault (uid ${process.getuid?.() ?? '?'}) may read and write ${root}` };
        } catch {
          return { ok: false, detail: `StudioVault (uid ${process.getuid?.() ?? '?'}) may not write to ${root}` };
        }
      },
      bucket: async () => {
        this.cachedSettings = undefined;
        try {
          const s = await this.settings();
          return { ok: true, detail: `a StudioVault target folder since ${s.createdAt}` };
        } catch (err) {
          return { ok: false, detail: isTargetError(err) ? err.message : String(err) };
        }
      },
      versioning: async () => ({ ok: true, detail: 'every upload adds a version; none is overwritten' }),
      objectLock: async () => {
        const s = await this.settings();
        const def = s.defaultRetention ? `${s.defaultRetention.mode} ${s.defaultRetention.days} days` : 'none';
        if (!s.objectLock)
          return { ok: false, detail: `no: Object Lock is off for this folder (it was set up without it); default retention: ${def}` };
        return {
          ok: true,
          detail: `yes, emulated: StudioVault refuses deletes and shorter retention, but anyone holding the drive can delete files; default retention: ${def}`,
          defaultRetention: s.defaultRetention,
        };
      },
    };
    return runPreflight(this, probes);
  }
}
