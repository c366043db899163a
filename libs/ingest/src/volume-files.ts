import { constants } from 'node:fs';
import { link, open, readdir, stat, truncate, unlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { StagingFile } from '@studiovault/hashing';
import { mkdirBelowRoot } from '@studiovault/volumes';

const STAGING = '.studiovault/staging';
/** A studio's files are not for every account on the NAS: no world bits, whatever the process umask. */
export const VOLUME_FILE_MODE = 0o640;
export const VOLUME_DIR_MODE = 0o750;

/** A failure of one volume while writing, named so the editor knows which disk to look at. */
export class VolumeWriteError extends Error {
  override name = 'VolumeWriteError';
  constructor(
    readonly volume: 'primary' | 'mirror',
    readonly errno: string | undefined,
    message: string,
  ) {
    super(message);
  }
  get full(): boolean {
    return this.errno === 'ENOSPC' || this.errno === 'EDQUOT';
  }
}

/**
 * The volume is not the one set up there (its identity marker is missing or another volume's,
 * or its device changed): nothing is written, and the volume is offline.
 */
export class VolumeOfflineError extends VolumeWriteError {
  override name = 'VolumeOfflineError';
  constructor(volume: 'primary' | 'mirror', message: string) {
    super(volume, undefined, message);
  }
}

/** Throws VolumeOfflineError when the volume at the root is not the one set up there. */
export type VolumeGuard = () => Promise<void>;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The files of one volume (restic's local backend is the model): partial data in a staging
 * folder on the same file system, and a file takes its final name only complete, fsynced and
 * hard-linked into place (which never overwrites), with the directory fsynced.
 */
export class VolumeFiles {
  constructor(
    readonly role: 'primary' | 'mirror',
    readonly root: string,
    /** Checks the volume's identity marker and device before a write (absent: reads only). */
    private readonly guard?: VolumeGuard,
  ) {}

  /** Throws VolumeOfflineError when the volume is not the one set up at the root. */
  async assertOnline(): Promise<void> {
    await this.guard?.();
  }

  partPath(uploadId: string): string {
    return join(this.root, STAGING, `${uploadId}.part`);
  }

  finalPath(relative: string): string {
    return join(this.root, relative);
  }

  /**
   * An empty staging file. Its directory is not fsynced: nothing in it is durable before the
   * upload's own fsync, which on a journaling file system (ext4, XFS) also commits the new
   * entry; a crash before that loses at most an empty or partial part, and the upload starts
   * again at byte 0 (see DualVolumeStore.write).
   */
  async createPart(uploadId: string): Promise<void> {
    await this.assertOnline();
    await this.wrap(async () => {
      await mkdirBelowRoot(this.root, STAGING, VOLUME_DIR_MODE); // never the root itself
      const fh = await open(this.partPath(uploadId), 'wx', VOLUME_FILE_MODE);
      await fh.close();
    });
  }

  /** The staging files (upload ids) and when each was last written. */
  async listParts(): Promise<{ id: string; mtimeMs: number }[]> {
    const dir = join(this.root, STAGING);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const parts: { id: string; mtimeMs: number }[] = [];
    for (const name of names) {
      if (!name.endsWith('.part')) continue;
      const st = await stat(join(dir, name)).catch(() => null);
      if (st) parts.push({ id: name.slice(0, -'.part'.length), mtimeMs: st.mtimeMs });
    }
    return parts;
  }

  /** Bytes in the staging file, or null when it is gone (or the volume is). */
  async partSize(uploadId: string): Promise<number | null> {
    try {
      return (await stat(this.partPath(uploadId))).size;
    } catch {
      return null;
    }
  }

  async truncatePart(uploadId: string, size: number): Promise<void> {
    await this.wrap(() => truncate(this.partPath(uploadId), size));
  }

  openPart(uploadId: string): Promise<StagingFile> {
    return this.wrap(() => StagingFile.open(this.partPath(uploadId)));
  }

  async removePart(uploadId: string): Promise<void> {
    await unlink(this.partPath(uploadId)).catch(() => undefined);
  }

  /**
   * Moves a complete, fsynced staging file to its final name. `link` fails with EEXIST
   * rather than replace a file, so nothing is ever overwritten.
   */
  async promote(uploadId: string, relative: string): Promise<'created' | 'exists'> {
    const target = this.finalPath(relative);
    await this.assertOnline();
    return this.wrap(async () => {
      const fh = await open(this.partPath(uploadId), 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      // The card's folders below the verified root; the root itself is never created here.
      await mkdirBelowRoot(this.root, posix.dirname(relative), VOLUME_DIR_MODE);
      try {
        await link(this.partPath(uploadId), target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw err;
      }
      await fsyncDir(dirname(target));
      // The staging name goes without waiting for its directory's fsync: the file is durable under
      // its final name already, and a part a crash brings back is swept (DualVolumeStore.deleteExpired).
      await unlink(this.partPath(uploadId));
      return 'created';
    });
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await stat(this.finalPath(relative));
      return true;
    } catch {
      return false;
    }
  }

  async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e instanceof VolumeWriteError) throw e;
      // A failed write on a disk that went away (folder moved, disk unmounted) takes the volume offline.
      if (e.code !== 'ENOSPC' && e.code !== 'EDQUOT') await this.assertOnline();
      const what = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'is full' : `failed (${e.code ?? e.message})`;
      throw new VolumeWriteError(this.role, e.code, `The ${this.role} volume ${what} at ${this.root}`);
    }
  }
}
