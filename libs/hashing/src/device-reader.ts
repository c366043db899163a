import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { AlignedBufferPool } from './aligned-buffers';
import { HashAlgorithm, HashResult, MultiHasher } from './multi-hasher';

/** How a copy was read back: from the device (O_DIRECT), or through the page cache where the file system refuses O_DIRECT. */
export type ReadMethod = 'o_direct' | 'plain';

export interface DeviceReadResult {
  hashes: HashResult;
  bytes: number;
  method: ReadMethod;
}

const CHUNK = 2 * 1024 * 1024; // a multiple of DIRECT_ALIGN

/** One buffer per read in progress, reused from file to file. */
const buffers = new AlignedBufferPool(CHUNK, 4);

/**
 * Re-reads a file from its device, not from the page cache, hashing as it reads. On Linux
 * with O_DIRECT; where the file system refuses it (tmpfs accepts it but is memory anyway;
 * some network mounts refuse), a plain read, and the method says so.
 */
export async function readFromDevice(
  path: string,
  algorithms: readonly HashAlgorithm[] = ['xxh64', 'sha256'],
  /** Called after each chunk read (the scrub's rate cap waits here). */
  onRead?: (bytes: number) => Promise<void>,
): Promise<DeviceReadResult> {
  const hasher = new MultiHasher(algorithms);
  const direct = constants.O_DIRECT;
  if (direct !== undefined) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, constants.O_RDONLY | direct);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
    if (fh) {
      const buf = buffers.take();
      try {
        let position = 0;
        for (;;) {
          let bytesRead: number;
          try {
            ({ bytesRead } = await fh.read(buf, 0, CHUNK, position));
          } catch (err) {
            // Opened, but the file system refuses the transfer itself (some network and FUSE mounts).
            if ((err as NodeJS.ErrnoException).code === 'EINVAL' && position === 0) break;
            throw err;
          }
          if (bytesRead === 0) return { hashes: hasher.digest(), bytes: hasher.bytes, method: 'o_direct' };
          hasher.update(buf.subarray(0, bytesRead));
          position += bytesRead;
          if (onRead) await onRead(bytesRead);
          if (bytesRead < CHUNK) return { hashes: hasher.digest(), bytes: hasher.bytes, method: 'o_direct' };
        }
      } finally {
        buffers.give(buf);
        await fh.close();
      }
    }
  }
  return plainRead(path, algorithms, onRead);
}

/** Reads through the page cache. */
export async function plainRead(
  path: string,
  algorithms: readonly HashAlgorithm[] = ['xxh64', 'sha256'],
  onRead?: (bytes: number) => Promise<void>,
): Promise<DeviceReadResult> {
  const hasher = new MultiHasher(algorithms);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hasher.update(buf.subarray(0, bytesRead));
      if (onRead) await onRead(bytesRead);
    }
  } finally {
    await fh.close();
  }
  return { hashes: hasher.digest(), bytes: hasher.bytes, method: 'plain' };
}
