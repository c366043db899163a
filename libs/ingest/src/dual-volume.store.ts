import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import { DataSource, In, Repository } from 'typeorm';
import { UploadEntity } from '@studiovault/catalog';
import { DIRECT_ALIGN, MultiHasher, StagingFile } from '@studiovault/hashing';
import { uploadBuffers } from './upload-buffers';
import { VolumeFiles, VolumeWriteError } from './volume-files';

export interface StoreVolumes {
  primary: VolumeFiles;
  /** Absent when the mirror is offline: the upload then lands on the primary only. */
  mirror?: VolumeFiles;
}

/** Running hash of an upload in progress, valid for the bytes up to `offset`. */
interface HashState {
  hasher: MultiHasher;
  offset: number;
}

const EXPIRE_MS = 7 * 24 * 3600_000;
const ORPHAN_AGE_MS = 24 * 3600_000;

/**
 * The tus data store of StudioVault: each upload is received once and written to the
 * primary and the mirror volume in the same pass, hashing (xxh64 + SHA-256) as it writes.
 * Partial data lives in each volume's staging folder; the catalog row keeps what survives a
 * restart. A killed process may leave the two staging files at different lengths: the
 * upload resumes at the shorter one.
 */
export class DualVolumeStore extends DataStore {
  private readonly hashes = new Map<string, HashState>();
  private readonly uploads: Repository<UploadEntity>;

  constructor(
    dataSource: DataSource,
    private readonly volumes: () => Promise<StoreVolumes>,
    /** Called with the finished upload (hashes computed); returns nothing or throws. */
    private readonly onReceived: (upload: UploadEntity) => Promise<void>,
  ) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
    this.uploads = dataSource.getRepository(UploadEntity);
  }

  override async create(upload: Upload): Promise<Upload> {
    // The row was inserted by the creation hook (it knows the card and the user); make the parts.
    const { primary, mirror } = await this.volumes();
    // Both volumes at once: each waits for its directory's fsync.
    const [made, mirrorMade] = await Promise.allSettled([primary.createPart(upload.id), mirror?.createPart(upload.id)]);
    let mirrorState: UploadEntity['mirrorState'] = mirror ? 'writing' : 'offline';
    if (made.status === 'rejected') {
      if (mirror && mirrorMade.status === 'fulfilled') await mirror.removePart(upload.id);
      throw made.reason;
    }
    if (mirrorMade.status === 'rejected') {
      const err: unknown = mirrorMade.reason;
      if (!(err instanceof VolumeWriteError)) {
        await primary.removePart(upload.id);
        throw err;
      }
      mirrorState = err.full ? 'full' : 'failed';
      if (err.full) {
        await primary.removePart(upload.id);
        throw err;
      }
    }
    await this.uploads.update(upload.id, { mirrorState });
    upload.creation_date = new Date().toISOString();
    if (upload.size === 0) {
      // An empty file is complete at creation: no PATCH will come.
      const row = (await this.uploads.findOne({ where: { id: upload.id } }))!;
      const state = { hasher: new MultiHasher(['xxh64', 'sha256']), offset: 0 };
      const p = await primary.openPart(upload.id);
      const m = mirror && mirrorState === 'writing' ? await mirror.openPart(upload.id) : undefined;
      try {
        await this.finish(row, state, p, m);
      } finally {
        await p.close();
        await m?.close();
      }
    }
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const row = await this.uploads.findOne({ where: { id } });
    if (!row || row.state === 'aborted') throw ERRORS.FILE_NOT_FOUND;
    const offset = await this.currentOffset(row);
    // Every byte is staged on both volumes but the row still says receiving: the database went
    // away as the last PATCH ended (its answer was an error, so the client asks again). Finish now.
    if (row.state === 'receiving' && offset === Number(row.size) && offset > 0) await this.finishStaged(row, offset);
    return new Upload({
      id,
      size: Number(row.size),
      offset,
      metadata: { relativePath: row.relativePath, cardId: row.cardId },
      creation_date: row.createdAt.toISOString(),
    });
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const row = await this.uploads.findOne({ where: { id } });
    if (!row || row.state !== 'receiving') throw ERRORS.FILE_NOT_FOUND;
    const size = Number(row.size);
    const { primary, mirror } = await this.volumes();
    const writeMirror = row.mirrorState === 'writing' && mirror !== undefined;
    const state = await this.hashState(row, primary, offset);

    if (offset === 0) {
      // A crash before the first fsync can lose a new part (see VolumeFiles.createPart): make it again.
      if ((await primary.partSize(id)) === null) await primary.createPart(id);
      if (writeMirror && (await mirror!.partSize(id)) === null) await mirror!.createPart(id);
    }
    // "Being received now", for the scrub, which yields to ingests: at the start of each PATCH and every 30 s of one.
    let seen = Date.now();
    const heartbeat = () => void this.uploads.query(`UPDATE uploads SET updated_at = now() WHERE id = $1`, [id]).catch(() => undefined);
    heartbeat();
    const p = await primary.openPart(id);
    let m: StagingFile | undefined;
    let writing: Promise<void> | undefined;
    let filling: Buffer | undefined;
    try {
      m = writeMirror ? await mirror!.openPart(id) : undefined;
      let position = offset; // file position of the next byte to write
      /** Hashes `buf[from, from + bytes)` and writes it at `position` to both volumes, while the next one is prepared. */
      const emit = async (buf: Buffer, from: number, bytes: number) => {
        if (Date.now() - seen > 30_000) {
          seen = Date.now();
          heartbeat();
        }
        const at = position;
        state.hasher.update(buf.subarray(from, from + bytes));
        await writing; // the previous buffer is on both volumes before this one goes out
        writing = Promise.all([
          primary.wrap(() => p.write(buf, from, bytes, at)),
          m ? mirror!.wrap(() => m!.write(buf, from, bytes, at)) : undefined,
        ]).then(() => {
          state.offset = at + bytes;
          uploadBuffers.give(buf);
        });
        position = at + bytes;
      };
      // Bytes that did not arrive laid out for O_DIRECT (see coalescedBody) are copied into an
      // aligned buffer (buffer offset ≡ file position mod 4096) and written when it is full.
      let lead = 0;
      let fill = 0;
      const flush = async () => {
        if (!filling || fill === lead) return;
        const buf = filling;
        filling = undefined;
        await emit(buf, lead, fill - lead);
      };
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (position + (filling ? fill - lead : 0) + chunk.length > size) {
          await flush();
          throw ERRORS.ERR_SIZE_EXCEEDED;
        }
        if (!filling && uploadBuffers.owns(chunk) && chunk.byteOffset % DIRECT_ALIGN === position % DIRECT_ALIGN) {
          await emit(chunk, 0, chunk.length);
          continue;
        }
        let used = 0;
        while (used < chunk.length) {
          if (!filling) {
            filling = uploadBuffers.take();
            lead = fill = position % DIRECT_ALIGN;
          }
          const n = chunk.copy(filling, fill, used);
          fill += n;
          used += n;
          if (fill === filling.length) await flush();
        }
      }
      await flush();
      await writing;
      if (position === size) await this.finish(row, state, p, m);
      return position;
    } catch (err) {
      await writing?.catch(() => undefined);
      // Keep what is resumable: the next HEAD trims both staging files to the bytes both took.
      this.hashes.delete(id);
      if (err instanceof VolumeWriteError) await this.uploads.update(id, { error: err.message });
      await this.currentOffset(row).catch(() => undefined); // trim both staging files to the bytes both took
      throw err;
    } finally {
      if (filling) uploadBuffers.give(filling);
      await p.close();
      await m?.close();
    }
  }

  override async remove(id: string): Promise<void> {
    const row = await this.uploads.findOne({ where: { id } });
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    if (row.state === 'sealed') throw ERRORS.FILE_NOT_FOUND;
    const { primary, mirror } = await this.volumes();
    await primary.removePart(id);
    await mirror?.removePart(id);
    this.hashes.delete(id);
    await this.uploads.update(id, { state: 'aborted' });
  }

  override getExpiration(): number {
    return EXPIRE_MS;
  }

  override async deleteExpired(): Promise<number> {
    const stale = await this.uploads
      .createQueryBuilder('u')
      .where(`u.state IN ('receiving','received','mismatch','failed')`)
      .andWhere('u.created_at < :t', { t: new Date(Date.now() - EXPIRE_MS) })
      .getMany();
    for (const u of stale) await this.remove(u.id).catch(() => undefined);
    return stale.length + (await this.sweepOrphanParts());
  }

  /**
   * Staging files no upload will finish, untouched for a day: a seal removes its part without
   * waiting for the staging directory's fsync, so a crash can bring one back; a repair copy
   * interrupted by a crash leaves one too.
   */
  private async sweepOrphanParts(): Promise<number> {
    const { primary, mirror } = await this.volumes();
    const before = Date.now() - ORPHAN_AGE_MS;
    let removed = 0;
    for (const v of [primary, mirror]) {
      if (!v) continue;
      const old = (await v.listParts()).filter((p) => p.mtimeMs < before);
      const ids = old.map((p) => p.id);
      const live = new Set(
        ids.length
          ? (
              await this.uploads.find({
                select: { id: true },
                where: { id: In(ids), state: In(['receiving', 'received', 'mismatch', 'failed']) },
              })
            ).map((u) => u.id)
          : [],
      );
      for (const p of old) {
        if (live.has(p.id)) continue;
        await v.removePart(p.id);
        removed++;
      }
    }
    return removed;
  }

  /** Where the upload resumes: the shorter of the two staging files (they can differ after a crash). */
  private async currentOffset(row: UploadEntity): Promise<number> {
    if (row.state !== 'receiving') return Number(row.size);
    const { primary, mirror } = await this.volumes();
    const p = (await primary.partSize(row.id)) ?? 0;
    if (row.mirrorState !== 'writing' || !mirror) return p;
    const m = await mirror.partSize(row.id);
    if (m === null) return p;
    const common = Math.min(p, m);
    if (p !== common) await primary.truncatePart(row.id, common);
    if (m !== common) await mirror.truncatePart(row.id, common);
    return common;
  }

  /** The running hash at `offset`; after a restart it is rebuilt from the staged bytes. */
  private async hashState(row: UploadEntity, primary: VolumeFiles, offset: number): Promise<HashState> {
    const known = this.hashes.get(row.id);
    if (known && known.offset === offset) return known;
    const hasher = new MultiHasher(['xxh64', 'sha256']);
    if (offset > 0) {
      const fh = await open(primary.partPath(row.id), 'r');
      try {
        const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
        let pos = 0;
        while (pos < offset) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos);
          if (bytesRead === 0) break;
          hasher.update(buf.subarray(0, bytesRead));
          pos += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
    const state = { hasher, offset };
    this.hashes.set(row.id, state);
    return state;
  }

  private async finishStaged(row: UploadEntity, offset: number): Promise<void> {
    const { primary, mirror } = await this.volumes();
    const state = await this.hashState(row, primary, offset);
    const p = await primary.openPart(row.id);
    let m: StagingFile | undefined;
    try {
      m = row.mirrorState === 'writing' && mirror ? await mirror.openPart(row.id) : undefined;
      await this.finish(row, state, p, m);
    } finally {
      await p.close();
      await m?.close();
    }
  }

  private async finish(row: UploadEntity, state: HashState, p: StagingFile, m: StagingFile | undefined): Promise<void> {
    await Promise.all([p.sync(), m?.sync()]);
    const digest = state.hasher.digest();
    this.hashes.delete(row.id);
    await this.uploads.update(row.id, { state: 'received', serverXxh64: digest.xxh64!, serverSha256: digest.sha256!, error: null });
    await this.onReceived({ ...row, state: 'received', serverXxh64: digest.xxh64!, serverSha256: digest.sha256! });
  }
}
