import { constants } from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { HashAlgorithm, HashResult, MultiHasher } from './multi-hasher';

/** How a copy was read back: from the device (O_DIRECT), or through the page cache where the file system refuses O_DIRECT. */
export type ReadMethod = 'o_direct' | 'plain';

export interface DeviceReadResult {
  hashes: HashResult;
  bytes: number;
  method: ReadMethod;
}

const ALIGN = 4096;
const CHUNK = 4 * 1024 * 1024; // a multiple of ALIGN

/**
 * A window of `buf` whose memory address is 4096-aligned, found by trying reads at
 * increasing offsets: O_DIRECT answers EINVAL until the address is aligned (Node gives no
 * buffer addresses). Returns the offset into `buf`, or -1.
 */
async function findAlignedOffset(fh: FileHandle, buf: Buffer): Promise<number> {
  for (let off = 0; off < ALIGN; off += 8) {
    try {
      await fh.read(buf, off, ALIGN, 0);
      return off;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
  }
  return -1;
}

/**
 * Re-reads a file from its device, not from the page cache, hashing as it reads. On Linux
 * with O_DIRECT; where the file system refuses it (tmpfs accepts it but is memory anyway;
 * some network mounts refuse), a plain read, and the method says so.
 */
export async function readFromDevice(path: string, algorithms: readonly HashAlgorithm[] = ['xxh64', 'sha256']): Promise<DeviceReadResult> {
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
      try {
        const buf = Buffer.allocUnsafeSlow(CHUNK + ALIGN);
        const base = await findAlignedOffset(fh, buf);
        if (base >= 0) {
          let position = 0;
          for (;;) {
            const { bytesRead } = await fh.read(buf, base, CHUNK, position);
            if (bytesRead === 0) break;
            hasher.update(buf.subarray(base, base + bytesRead));
            position += bytesRead;
            if (bytesRead < CHUNK) break;
          }
          return { hashes: hasher.digest(), bytes: hasher.bytes, method: 'o_direct' };
        }
      } finally {
        await fh.close();
      }
    }
  }
  return plainRead(path, algorithms);
}

/** Reads through the page cache. */
export async function plainRead(path: string, algorithms: readonly HashAlgorithm[] = ['xxh64', 'sha256']): Promise<DeviceReadResult> {
  const hasher = new MultiHasher(algorithms);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hasher.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return { hashes: hasher.digest(), bytes: hasher.bytes, method: 'plain' };
}
