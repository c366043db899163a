import { readdir, readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { unsafeRelativePath } from '@studiovault/contracts';

/**
 * Read access to an off-site target without the StudioVault server: an S3 bucket (with the
 * target's prefix) or a disk target folder (objects/<key>.versions/<version>.data beside its
 * .json). Keys are relative to the prefix, as in libs/contracts' offsite-layout.
 */
export interface Bucket {
  /** Where, for people: "s3 bucket b/studio/ at host", "disk target /mnt/usb"; never a credential. */
  readonly description: string;
  /** The same as a JSON object, for --json. */
  readonly summary: Record<string, unknown>;
  /** Names of the "folders" directly under `prefix` (which ends with "/"). */
  listFolders(prefix: string): Promise<string[]>;
  /** Folders at the top of the bucket, ignoring the prefix (to help find the right one); none on a disk target. */
  rootFolders(): Promise<string[]>;
  /** Every version and delete marker of every key under `prefix`. */
  listVersions(prefix: string): Promise<ObjectVersion[]>;
  /** One version of a key (the current one without versionId). */
  get(key: string, versionId?: string, signal?: AbortSignal): Promise<FetchedObject>;
  close(): void;
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  lastModified: Date;
  size: number;
  isLatest: boolean;
  deleteMarker: boolean;
}

export interface FetchedObject {
  body: Readable;
  size: number;
  versionId: string;
  /** The SHA-256 StudioVault stored with the object (x-amz-meta-sha256, or the disk's .json). */
  sha256?: string;
}

/**
 * not-found: no such key or version. unreachable: nothing answers (exit 3). denied: the
 * credentials are refused. no-bucket: no bucket or not a target folder. transient: worth another
 * try. failed: anything else.
 */
export type BucketErrorKind = 'not-found' | 'unreachable' | 'denied' | 'no-bucket' | 'transient' | 'failed';

export class BucketError extends Error {
  override name = 'BucketError';
  constructor(
    readonly kind: BucketErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
]);

/** Keys come from manifests, which come from the bucket: checked before they become paths or requests. */
export function checkKey(key: string): void {
  const bad = unsafeRelativePath(key);
  if (bad) throw new BucketError('failed', `invalid object key ${JSON.stringify(key.slice(0, 200))}: ${bad}`);
}

// ---- disk ------------------------------------------------------------------------------------

const VERSIONS = '.versions';
const MARKER = 'studiovault-target.json';

interface VersionMeta {
  key: string;
  versionId: string;
  size: number;
  sha256: string;
  lastModified: string;
}

/**
 * A disk target folder (a USB drive, a second share), read as libs/offsite's DiskTarget writes
 * it: objects/<key>.versions/<version>.data and <version>.json (the commit); version ids sort by
 * time. No delete markers: a deleted version is simply gone.
 */
export class DiskBucket implements Bucket {
  readonly description: string;
  readonly summary: Record<string, unknown>;

  constructor(private readonly root: string) {
    this.description = `disk target ${root}`;
    this.summary = { kind: 'disk', path: root };
  }

  close(): void {}

  async rootFolders(): Promise<string[]> {
    return [];
  }

  /** The folder must be there and be a target (its marker file), else every key would look missing. */
  async check(): Promise<void> {
    const st = await stat(this.root).catch(() => null);
    if (!st) throw new BucketError('unreachable', `${this.description}: the folder is not there (is the drive mounted?)`);
    if (!st.isDirectory()) throw new BucketError('no-bucket', `${this.description}: not a folder`);
    const marker = await stat(join(this.root, MARKER)).catch(() => null);
    if (!marker) throw new BucketError('no-bucket', `${this.description}: not a StudioVault target folder (${MARKER} is missing)`);
  }

  private versionsDir(key: string): string {
    checkKey(key);
    if (key.split('/').some((s) => s.endsWith(VERSIONS))) throw new BucketError('failed', `invalid object key ${JSON.stringify(key)}`);
    return join(this.root, 'objects', ...`${key}${VERSIONS}`.split('/'));
  }

  private fail(err: unknown, what: string): BucketError {
    if (err instanceof BucketError) return err;
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT') return new BucketError('not-found', `${this.description}: ${what}: not found`);
    if (code === 'EACCES' || code === 'EPERM') return new BucketError('denied', `${this.description}: ${what}: permission denied`);
    if (code === 'EIO') return new BucketError('transient', `${this.description}: ${what}: I/O error`);
    return new BucketError('failed', `${this.description}: ${what}: ${code ?? (err as Error)?.message ?? String(err)}`);
  }

  private async ids(dir: string): Promise<string[]> {
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

  async listFolders(prefix: string): Promise<string[]> {
    const dir = join(this.root, 'objects', ...prefix.split('/').filter(Boolean));
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && !e.name.endsWith(VERSIONS)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.fail(err, `list ${prefix}`);
    }
  }

  async listVersions(prefix: string): Promise<ObjectVersion[]> {
    const base = join(this.root, 'objects');
    const start = prefix.includes('/') ? join(base, ...prefix.slice(0, prefix.lastIndexOf('/')).split('/').filter(Boolean)) : base;
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw this.fail(err, `list ${prefix}`);
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const full = join(dir, e.name);
        if (e.name.endsWith(VERSIONS)) {
          const key = relative(base, full).split(sep).join('/').slice(0, -VERSIONS.length);
          if (key.startsWith(prefix)) keys.push(key);
        } else await walk(full);
      }
    };
    await walk(start);
    const out: ObjectVersion[] = [];
    for (const key of keys.sort()) {
      const dir = this.versionsDir(key);
      let first = true;
      for (const id of await this.ids(dir)) {
        let meta: VersionMeta;
        try {
          meta = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as VersionMeta;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw this.fail(err, `read ${key} version ${id}`);
        }
        out.push({
          key,
          versionId: id,
          lastModified: new Date(meta.lastModified),
          size: meta.size,
          isLatest: first,
          deleteMarker: false,
        });
        first = false;
      }
    }
    return out;
  }

  async get(key: string, versionId?: string): Promise<FetchedObject> {
    const what = `get ${key}${versionId ? ` (version ${versionId})` : ''}`;
    const dir = this.versionsDir(key);
    try {
      let id = versionId;
      if (id === undefined || id === 'null') {
        id = (await this.ids(dir))[0];
        if (id === undefined) throw new BucketError('not-found', `${this.description}: ${what}: not found`);
      } else if (!/^[0-9A-Za-z-]+$/.test(id)) {
        throw new BucketError('not-found', `${this.description}: ${what}: no such version`);
      }
      const meta = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as VersionMeta;
      const body = createReadStream(join(dir, `${id}.data`), { highWaterMark: 1024 * 1024 });
      // Open errors (a missing .data) surface on the first read; wait for the open to see them here.
      await new Promise<void>((resolve, reject) => {
        body.once('open', () => resolve());
        body.once('error', reject);
      });
      return { body, size: meta.size, versionId: id, sha256: meta.sha256 };
    } catch (err) {
      throw this.fail(err, what);
    }
  }
}
