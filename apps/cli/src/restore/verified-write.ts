import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, rename, statfs, unlink } from 'node:fs/promises';
import { dirname, join, parse } from 'node:path';

const FLUSH_BYTES = 4 * 1024 * 1024;

/** Where a restored file's bytes come from: read again from the start on each call (a retry). */
export type Source = () => Promise<{ body: AsyncIterable<Uint8Array>; destroy: () => void }>;

export type WriteOutcome =
  | { status: 'restored'; sha256: string; bytes: number }
  | { status: 'exists' }
  /** sha256 is null when the object holds more bytes than the manifest says (reading stopped there). */
  | { status: 'mismatch'; bytes: number; sha256: string | null };

/** A temp file next to the final name, in the same folder (so the link/rename stays on one file system). */
function tempName(dest: string): string {
  return join(dirname(dest), `.sv-restore-${randomBytes(8).toString('hex')}.part`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a folder to fsync it; the rename is as durable as it gets there.
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some file systems (SMB, FAT) refuse fsync on a folder
  } finally {
    await fh.close();
  }
}

/** Link errors of file systems without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK', 'EINVAL']);

/**
 * Moves a complete, fsynced temp file to its final name without ever replacing a file there:
 * link() fails with EEXIST when the name is taken. Where the file system has no hard links, a
 * check and a rename (a window of a few microseconds in which another program could create the
 * name).
 */
async function placeNoOverwrite(tmp: string, dest: string): Promise<'placed' | 'exists'> {
  try {
    await link(tmp, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return 'exists';
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await exists(dest)) return 'exists';
    await rename(tmp, dest);
    return 'placed';
  }
  await unlink(tmp);
  return 'placed';
}

/**
 * Writes one restored file: the bytes go to a temp file beside the final name while their
 * SHA-256 is computed, the temp file is fsynced, and only when size and SHA-256 match the
 * manifest is it given its final name, never over an existing file. Anything else leaves
 * nothing behind. `onBytes` gets the bytes written so far.
 */
export async function writeVerified(
  dest: string,
  expected: { size: number; sha256: string },
  source: Source,
  onBytes: (bytes: number) => void,
): Promise<WriteOutcome> {
  await mkdir(dirname(dest), { recursive: true });
  if (await exists(dest)) return { status: 'exists' };
  const tmp = tempName(dest);
  const fh = await open(tmp, 'wx', 0o666);
  let closed = false;
  let placed = false;
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    const { body, destroy } = await source();
    try {
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        let done = 0;
        while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
      };
      for await (const chunk of body) {
        hash.update(chunk);
        bytes += chunk.length;
        // More bytes than the manifest says: no point reading on.
        if (bytes > expected.size) break;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= FLUSH_BYTES) {
          await flush();
          onBytes(bytes);
        }
      }
      await flush();
      onBytes(Math.min(bytes, expected.size));
    } finally {
      destroy();
    }
    const sha256 = hash.digest('hex');
    if (bytes !== expected.size || sha256 !== expected.sha256) {
      return { status: 'mismatch', bytes, sha256: bytes > expected.size ? null : sha256 };
    }
    await fh.sync();
    await fh.close();
    closed = true;
    const where = await placeNoOverwrite(tmp, dest);
    placed = where === 'placed';
    if (!placed) return { status: 'exists' };
    await fsyncDir(dirname(dest));
    return { status: 'restored', sha256, bytes };
  } finally {
    if (!closed) await fh.close().catch(() => undefined);
    if (!placed) await unlink(tmp).catch(() => undefined);
  }
}

/** The nearest folder of `path` (itself or an ancestor) that exists: where a new folder would be made. */
export async function nearestExisting(path: string): Promise<string> {
  let p = path;
  for (;;) {
    try {
      await lstat(p);
      return p;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const up = dirname(p);
    if (up === p || up === parse(p).root) return up;
    p = up;
  }
}

/** Bytes free for this user in the file system of `dir`, and its block size. */
export async function freeSpace(dir: string): Promise<{ free: number; blockSize: number }> {
  const s = await statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize), blockSize: Number(s.bsize) || 4096 };
}

/** Proves the folder takes new files (permissions, read-only mounts, ACLs): creates and removes a probe file. */
export async function probeWritable(dir: string): Promise<void> {
  const probe = join(dir, `.sv-restore-probe-${randomBytes(6).toString('hex')}`);
  const fh = await open(probe, 'wx', 0o600);
  await fh.close();
  await unlink(probe);
}
