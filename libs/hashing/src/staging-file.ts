import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { DIRECT_ALIGN } from './aligned-buffers';

/**
 * A staging file open for the bytes of an upload. Whole 4 KiB blocks go straight to the
 * device (O_DIRECT): no copy into the page cache and no write-back later, which on a NAS
 * writing two volumes at once is most of the CPU an ingest costs; the verification re-reads
 * the device anyway. A partial block at either end of a write (a resumed upload starts at any
 * byte; a file ends at any byte) goes through the page cache, and `sync()` makes both
 * durable. Where the file system refuses O_DIRECT, every write is a plain one.
 *
 * The caller lays its buffer out so that buffer offset ≡ file position (mod 4096) from a
 * 4096-aligned base (an AlignedBufferPool buffer): then every whole block is aligned in
 * memory too.
 */
export class StagingFile {
  private constructor(
    private readonly plain: FileHandle,
    private direct: FileHandle | undefined,
  ) {}

  static async open(path: string): Promise<StagingFile> {
    const plain = await open(path, 'r+');
    let direct: FileHandle | undefined;
    if (constants.O_DIRECT !== undefined) {
      try {
        direct = await open(path, constants.O_WRONLY | constants.O_DIRECT);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') {
          await plain.close();
          throw err;
        }
      }
    }
    return new StagingFile(plain, direct);
  }

  /** Whether whole blocks go to the device directly. */
  get isDirect(): boolean {
    return this.direct !== undefined;
  }

  /** Writes `buf[from, from + length)` at file `position`, continuing after short writes. */
  async write(buf: Buffer, from: number, length: number, position: number): Promise<void> {
    let off = from;
    let pos = position;
    const end = from + length;
    while (off < end) {
      const rest = end - off;
      if (this.direct && pos % DIRECT_ALIGN === 0 && rest >= DIRECT_ALIGN) {
        try {
          const n = rest - (rest % DIRECT_ALIGN);
          const { bytesWritten } = await this.direct.write(buf, off, n, pos);
          if (bytesWritten <= 0) throw Object.assign(new Error('the device took no bytes'), { code: 'ENOSPC' });
          off += bytesWritten;
          pos += bytesWritten;
          continue;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
          // Opened, but the file system refuses the transfer itself: plain writes from here on.
          await this.direct.close().catch(() => undefined);
          this.direct = undefined;
        }
      }
      // Up to the next block boundary (or the end), through the page cache.
      const n = this.direct ? Math.min(rest, DIRECT_ALIGN - (pos % DIRECT_ALIGN)) : rest;
      const { bytesWritten } = await this.plain.write(buf, off, n, pos);
      if (bytesWritten <= 0) throw Object.assign(new Error('the device took no bytes'), { code: 'ENOSPC' });
      off += bytesWritten;
      pos += bytesWritten;
    }
  }

  /** Data and size on the device (the direct blocks need it too: the disk's write cache). */
  async sync(): Promise<void> {
    await this.plain.sync();
  }

  async close(): Promise<void> {
    await Promise.all([this.plain.close(), this.direct?.close()]);
  }
}
