/**
 * Durable writes: a file appears under its final name only complete and on disk.
 * Write a temporary file in the same folder, fsync it, rename (or hard-link, when an existing
 * file must never be replaced) it into place, then fsync the folder so the new name survives a
 * power cut.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MhlError } from './errors';

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * fsync a folder. Some network and FUSE file systems refuse fsync on a folder (EINVAL, ENOTSUP,
 * EISDIR, EBADF); that is tolerated, since nothing more can be done there.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  try {
    await handle.sync();
  } catch (e) {
    if (!['EINVAL', 'ENOTSUP', 'EISDIR', 'EBADF', 'EPERM'].includes(errno(e) ?? '')) throw e;
  } finally {
    await handle.close();
  }
}

/** Creates a folder (and its parents; mode 0750: a studio's files are not for every account on the NAS) and makes the new entry durable in its parent. */
export async function ensureDirectoryDurably(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o750 });
  if (created !== undefined) {
    // Every folder from the first one created down needs its parent synced.
    let d = dir;
    const toSync: string[] = [];
    while (d.length >= created.length) {
      toSync.push(dirname(d));
      if (d === created) break;
      d = dirname(d);
    }
    for (const parent of toSync) await fsyncDirectory(parent);
  }
}

export interface DurableWriteOptions {
  /** Refuse (error `generation-exists`) rather than replace an existing file. Default false. */
  noClobber?: boolean;
  /** File mode of the new file. Default 0o640 (not world-readable). */
  mode?: number;
}

export async function writeFileDurably(target: string, data: Uint8Array | string, options: DurableWriteOptions = {}): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o640);
  let placed = false;
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.noClobber) {
      try {
        await link(temp, target);
        placed = true;
      } catch (e) {
        if (errno(e) === 'EEXIST') throw new MhlError('generation-exists', `${target} already exists; it is never replaced`);
        if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP', 'EMLINK'].includes(errno(e) ?? '')) throw e;
        // No hard links here (exFAT, some SMB shares): check, then rename (not atomic against a racing writer).
        const exists = await lstat(target).then(
          () => true,
          (err: unknown) => (errno(err) === 'ENOENT' ? false : Promise.reject(err)),
        );
        if (exists) throw new MhlError('generation-exists', `${target} already exists; it is never replaced`);
        await rename(temp, target);
        placed = true;
        await fsyncDirectory(dir);
        return;
      }
      await unlink(temp);
    } else {
      await rename(temp, target);
      placed = true;
    }
    await fsyncDirectory(dir);
  } catch (e) {
    if (!placed || options.noClobber) await unlink(temp).catch(() => undefined);
    throw e;
  }
}
