import { createHash, randomBytes } from 'node:crypto';
import { Xxh64 } from '@node-rs/xxhash';
import { constants } from 'node:fs';
import { access, link, lstat, mkdir, open, realpath, statfs, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';
import { ChunkGatherer, chunksDone, DIRECT_ALIGN, StagingFile } from '@studiovault/hashing';
import { restoreBuffers } from './restore-buffers';

export interface WriteOutcome {
  ok: boolean;
  bytes: number;
  /** The hash checked: the catalog's xxh64 when it has one (native, ~10 GB/s), else SHA-256. */
  hash: { name: 'xxh64' | 'sha256'; value: string };
  /** Why the file was not put in place. */
  error?: string;
}

/**
 * Writes restored files into a folder: each file is hashed as it is written to a temporary
 * name beside its final one, fsynced, and linked into place only if its SHA-256 matches the
 * catalog; an existing file is never overwritten (link() refuses), nothing half-written
 * ever carries a final name.
 */
export class RestoreWriter {
  /** Folders below the root already made (or found) as plain folders. */
  private readonly made = new Set<string>();

  /**
   * @param within when given, the folder lies in this allowed root: folders below `root` are made
   * one level at a time and a symlink among them (which could lead out) fails the file.
   */
  constructor(
    readonly root: string,
    private readonly within?: string,
  ) {}

  /** The folder must be absolute, writable, have room for `bytes`, and hold none of `paths` yet. */
  static async prepare(root: string, bytes: number, paths: readonly string[]): Promise<RestoreWriter> {
    if (!isAbsolute(root))
      throw new AppError(ErrorCode.ValidationFailed, `Restore destination must be an absolute folder: ${root}`, [
        'destination: absolute path',
      ]);
    try {
      await mkdir(root, { recursive: true });
      await access(root, constants.W_OK);
    } catch (err) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        `Cannot write to ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        ['destination: not writable'],
      );
    }
    const fs = await statfs(root);
    const free = fs.bavail * fs.bsize;
    if (free < bytes)
      throw new AppError(
        ErrorCode.InsufficientStorage,
        `${root} has ${free} bytes free; the restore needs ${bytes} (${bytes - free} bytes missing). Nothing was written.`,
      );
    const writer = new RestoreWriter(root);
    const existing: string[] = [];
    for (const p of paths) if (await stat(writer.target(p)).catch(() => null)) existing.push(p);
    if (existing.length)
      throw new AppError(
        ErrorCode.Conflict,
        `${existing.length} file(s) exist already in ${root} and would not be overwritten (e.g. ${existing.slice(0, 3).join(', ')}). Choose an empty folder. Nothing was written.`,
      );
    return writer;
  }

  /** The final path of a restored file; refuses a path that would leave the folder. */
  target(relPath: string): string {
    const full = resolve(this.root, relPath);
    const rel = relative(this.root, full);
    if (rel.startsWith('..') || isAbsolute(rel) || relPath.includes('\0')) throw new Error(`unsafe path ${relPath}`);
    return full;
  }

  /** Makes the folders from the root down to `dir`, each a plain folder (no symlink followed out). */
  private async makeFolders(dir: string): Promise<void> {
    const realRoot = await realpath(this.root);
    let at = this.root;
    for (const part of relative(this.root, dir).split(sep).filter(Boolean)) {
      at = join(at, part);
      if (this.made.has(at)) continue;
      await mkdir(at).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const st = await lstat(at);
      const real = await realpath(at);
      const rel = relative(realRoot, real);
      if (st.isSymbolicLink() || !st.isDirectory() || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
        throw new Error(`${relative(this.root, at)} in the restore folder is a link or a file, not a folder: not followed`);
      this.made.add(at);
    }
  }

  async write(
    relPath: string,
    body: Readable,
    expected: { size: number; sha256: string; xxh64?: string | null },
    onBytes?: (n: number) => void,
  ): Promise<WriteOutcome> {
    const final = this.target(relPath);
    if (this.within) await this.makeFolders(dirname(final));
    else await mkdir(dirname(final), { recursive: true });
    const temp = join(dirname(final), `.studiovault-restore-${randomBytes(6).toString('hex')}.part`);
    await (await open(temp, 'wx', 0o644)).close();
    const fh = await StagingFile.open(temp);
    const hasher = expected.xxh64 ? new Xxh64() : createHash('sha256');
    let bytes = 0;
    let writing: Promise<void> | undefined;
    const gathered = new ChunkGatherer(restoreBuffers);
    try {
      // Network chunks are small (16-64 KiB): gathered into aligned 1 MiB buffers, each written
      // with O_DIRECT (no page-cache copy, a cheap fsync) while the next one fills. A ranged
      // download hands over such buffers already filled: written as they are, without a copy.
      let position = 0;
      const send = async (buf: Buffer) => {
        const at = position;
        position += buf.length;
        await writing;
        writing = fh.write(buf, 0, buf.length, at).then(() => restoreBuffers.give(buf));
      };
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hasher.update(chunk);
        bytes += chunk.length;
        onBytes?.(chunk.length);
        if (gathered.pending === 0 && position % DIRECT_ALIGN === 0 && chunk.byteOffset === 0 && restoreBuffers.owns(chunk)) {
          await send(chunk);
          continue;
        }
        for (const full of gathered.add(chunk)) await send(full);
        if (restoreBuffers.owns(chunk)) restoreBuffers.give(chunk);
        else chunksDone(chunk.length);
      }
      const rest = gathered.rest();
      if (rest) await send(rest);
      await writing;
      await fh.sync();
    } catch (err) {
      gathered.drop();
      await writing?.catch(() => undefined);
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    const hash: WriteOutcome['hash'] =
      hasher instanceof Xxh64
        ? { name: 'xxh64', value: hasher.digest().toString(16).padStart(16, '0') }
        : { name: 'sha256', value: hasher.digest('hex') };
    const want = hash.name === 'xxh64' ? expected.xxh64! : expected.sha256;
    if (bytes !== expected.size || hash.value !== want) {
      await unlink(temp).catch(() => undefined);
      return {
        ok: false,
        bytes,
        hash,
        error: `content does not match the catalog: got ${bytes} bytes, ${hash.name} ${hash.value}; expected ${expected.size} bytes, ${hash.name} ${want}`,
      };
    }
    try {
      await link(temp, final); // never overwrites
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      return {
        ok: false,
        bytes,
        hash,
        error: code === 'EEXIST' ? `${relPath} exists already: not overwritten` : `cannot put ${relPath} in place: ${code}`,
      };
    }
    await unlink(temp);
    return { ok: true, bytes, hash };
  }
}
