import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createXXHash64, type IHasher } from 'hash-wasm';

/** The source hashes of a file as read from the card: what the server's seal checks. */
export interface SourceHashes {
  /** 16 lowercase hex digits (canonical big-endian form, as ASC MHL writes it). */
  xxh64: string;
  /** 64 lowercase hex digits. */
  sha256: string;
}

/**
 * Bytes per read from the card. Large enough for card readers to stream at full speed,
 * small enough that N files in flight stay a few MiB each (the readable's high-water mark is
 * one read, the HTTP request buffers about one more).
 */
export const READ_SIZE = 2 * 1024 * 1024;

/**
 * Read buffers of READ_SIZE, reused: a card of 7 GB read into fresh 2 MiB buffers made V8 run
 * a full garbage collection every few dozen MiB (external-memory pressure). A buffer comes back
 * when the bytes it carried are hashed and, for a slice being sent, written to the socket (see
 * IngestHttpStack); one that never comes back is left to the garbage collector.
 */
export class ReadBuffers {
  private readonly free: Buffer[] = [];
  private readonly mine = new WeakSet<Buffer>();

  constructor(private readonly keep = 16) {}

  take(): Buffer {
    const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
    this.mine.add(buf);
    return buf;
  }

  /** Gives back a buffer from take(); anything else is ignored. */
  give(buf: Buffer): void {
    if (!this.mine.has(buf)) return;
    this.mine.delete(buf);
    if (this.free.length < this.keep) this.free.push(buf);
  }
}

export const readBuffers = new ReadBuffers();

/**
 * xxh64 (WebAssembly: the CLI is one bundled file, and a native addon cannot be bundled; it
 * runs at several GB/s, faster than SHA-256) and SHA-256 (OpenSSL) of one stream, in one pass.
 */
export class SourceHasher {
  private constructor(
    private readonly xxh: IHasher,
    private readonly sha: Hash,
  ) {}

  static async create(): Promise<SourceHasher> {
    const xxh = await createXXHash64();
    xxh.init();
    return new SourceHasher(xxh, createHash('sha256'));
  }

  update(chunk: Uint8Array): void {
    this.xxh.update(chunk);
    this.sha.update(chunk);
  }

  digest(): SourceHashes {
    return { xxh64: this.xxh.digest('hex').padStart(16, '0'), sha256: this.sha.digest('hex') };
  }
}

/** Reading the card failed (card pulled out, I/O error): retrying the upload does not help. */
export class SourceReadError extends Error {
  override name = 'SourceReadError';
  readonly code: string = 'READ_FAILED';
}

/** A file that changed on the card while it was being read. */
export class SourceChangedError extends SourceReadError {
  override name = 'SourceChangedError';
  override readonly code = 'SOURCE_CHANGED';
}

/**
 * One file of the card, open for the upload, hashed SEQUENTIALLY as its bytes are read:
 * `hashed` is the frontier up to which the hash is computed. Any read that reaches past the
 * frontier extends it (reads behind it, e.g. a retried PATCH, are sent again without being
 * hashed twice); a read that starts beyond it (tus resumed at an offset the server already
 * has) first reads and hashes the gap. So every byte is hashed exactly once, in order, from
 * the card, whatever the upload does.
 */
export class HashingFile {
  /** Bytes hashed so far, from offset 0. */
  hashed = 0;
  /** Bytes read only to hash them (the prefix the server already had), not to send them. */
  prefixRead = 0;
  /** Set while the skipped prefix is being hashed (for the progress display). */
  catchingUp = false;
  private digestValue?: SourceHashes;
  private closed = false;
  private readonly streams = new Set<Readable>();

  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly fh: FileHandle,
    private readonly hasher: SourceHasher,
  ) {}

  /** Opens the file and checks that it still has the size the walk found. */
  static async open(path: string, expectedSize: number): Promise<HashingFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw new SourceReadError(`cannot open it on the card: ${(err as Error).message}`);
    }
    try {
      const { size } = await fh.stat();
      if (size !== expectedSize) {
        throw new SourceChangedError(`it changed on the card since it was listed (${expectedSize} bytes then, ${size} now)`);
      }
      return new HashingFile(path, size, fh, await SourceHasher.create());
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Reads `length` bytes at `position`, extending the hash when the read reaches past the frontier. */
  private async readAt(position: number, length: number): Promise<Buffer> {
    const buf = length === READ_SIZE ? readBuffers.take() : Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(buf, got, length - got, position + got));
      } catch (err) {
        throw new SourceReadError(`cannot read it from the card: ${(err as Error).message}`);
      }
      if (bytesRead === 0)
        throw new SourceChangedError(`it ended at byte ${position + got} of ${this.size} (it changed on the card while being read)`);
      got += bytesRead;
    }
    // Synchronous from here: no other read can move the frontier in between.
    if (position <= this.hashed && position + length > this.hashed) {
      this.hasher.update(buf.subarray(this.hashed - position));
      this.hashed = position + length;
    }
    return buf;
  }

  /** Reads and hashes the bytes from the frontier up to `to` (nothing is sent). */
  async catchUp(to: number): Promise<void> {
    if (this.hashed >= to) return;
    this.catchingUp = true;
    try {
      while (this.hashed < to) {
        const from = this.hashed;
        const n = Math.min(READ_SIZE, to - from);
        readBuffers.give(await this.readAt(from, n)); // hashed, not sent
        this.prefixRead += n;
      }
    } finally {
      this.catchingUp = false;
    }
  }

  /** The source hashes of the whole file: hashes what was not read yet first. */
  async finish(): Promise<SourceHashes> {
    if (this.digestValue) return this.digestValue;
    await this.catchUp(this.size);
    this.digestValue = this.hasher.digest();
    return this.digestValue;
  }

  /** A readable of the bytes [start, end), read in READ_SIZE pieces; `size` is its length (tus sends it as Content-Length). */
  stream(start: number, end: number): Readable & { size: number } {
    let position = start;
    const readable = new Readable({
      highWaterMark: READ_SIZE,
      read: () => {
        if (position >= end) {
          readable.push(null);
          return;
        }
        const n = Math.min(READ_SIZE, end - position);
        const at = position;
        position += n;
        this.readAt(at, n).then(
          (buf) => {
            if (!readable.destroyed) readable.push(buf);
            else readBuffers.give(buf);
          },
          (err: Error) => readable.destroy(err),
        );
      },
    });
    this.streams.add(readable);
    readable.once('close', () => this.streams.delete(readable));
    return Object.assign(readable, { size: end - start });
  }

  /** Stops the reads of earlier slices (a retried PATCH gets a fresh one). */
  dropStreams(): void {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropStreams();
    await this.fh.close().catch(() => undefined);
  }
}

/** tus-js-client's FileSource over a HashingFile. */
export interface HashingSource {
  size: number;
  slice(start: number, end: number): Promise<{ value: Readable & { size: number }; done: boolean }>;
  close(): void;
}

/**
 * A tus-js-client `fileReader` for one HashingFile (the `input` given to tus.Upload is
 * ignored). Slices are readables, so chunkSize can be large while memory stays flat.
 * tus's close() only stops reads: the owner closes the file after hashing the rest.
 */
export function hashingFileReader(file: HashingFile): { openFile(input: unknown, chunkSize: number): Promise<HashingSource> } {
  return {
    openFile: async () => ({
      size: file.size,
      slice: async (start: number, end: number) => {
        file.dropStreams();
        // Resumed beyond the frontier: hash the prefix the server already has, from the card.
        if (start > file.hashed) await file.catchUp(start);
        return { value: file.stream(start, end), done: end >= file.size };
      },
      close: () => file.dropStreams(),
    }),
  };
}

/** Reads a whole file once and returns its source hashes (identity check of a file already on the server). */
export async function hashWholeFile(path: string, size: number): Promise<SourceHashes> {
  const file = await HashingFile.open(path, size);
  try {
    return await file.finish();
  } finally {
    await file.close();
  }
}
