import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { TargetsService } from '@studiovault/backup';
import { AppError } from '@studiovault/common';
import { DamageKind, ErrorCode } from '@studiovault/contracts';
import { ChunkGatherer, chunksDone } from '@studiovault/hashing';
import { VolumeFiles } from '@studiovault/ingest';
import type { OffsiteTarget } from '@studiovault/offsite';
import { restoreBuffers } from './restore-buffers';

export type RestoreSource = 'primary' | 'mirror' | 'offsite';
export const RESTORE_SOURCES: readonly RestoreSource[] = ['primary', 'mirror', 'offsite'];

export interface RestorableFile {
  /** The asset whose bytes these are (a twin's original). */
  assetId: string;
  cardId: string;
  cardLabel: string;
  path: string;
  version: number;
  size: number;
  sha256: string;
  xxh64: string | null;
}

interface CopyRow {
  kind: 'volume' | 'target';
  role: 'primary' | 'mirror' | null;
  root_path: string | null;
  location: string | null;
  version_id: string | null;
  target_id: string | null;
  copy_id: string | null;
}

/**
 * Where a file's bytes can be read from, best first: the primary's verified copy, the mirror's,
 * then a verified off-site copy. `from` restricts to one source; a source that is unhealthy
 * (volume offline, copy not verified, file gone) is skipped, never read.
 */
export class AssetSources {
  private readonly drivers = new Map<string, Promise<OffsiteTarget>>();

  constructor(
    private readonly db: DataSource,
    private readonly targets: TargetsService,
    /** Told about a local copy found missing or of the wrong size (the server marks it and heals it). */
    private readonly onDamaged?: (r: { assetId: string; copyId: string; kind: DamageKind; detail: string }) => Promise<void>,
  ) {}

  /**
   * Opens the best healthy copy; `skip` names sources already tried (a copy that did not match
   * is not offered again). `copyId` is the local copy read, so a mismatch can be recorded on it.
   */
  async open(
    file: RestorableFile,
    from?: RestoreSource,
    skip: ReadonlySet<RestoreSource> = new Set(),
  ): Promise<{ source: RestoreSource; stream: Readable; copyId: string | null }> {
    const rows: CopyRow[] = await this.db.query(
      `SELECT 'volume' AS kind, v.role, v.root_path, c.location, NULL AS version_id, NULL::uuid AS target_id, c.id::text AS copy_id
         FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
        WHERE c.asset_id = $1 AND c.state = 'verified' AND v.state = 'online'
       UNION ALL
       SELECT 'target', NULL, NULL, c.location, c.version_id, c.target_id, NULL
         FROM copies c JOIN offsite_targets t ON t.id = c.target_id
        WHERE c.asset_id = $1 AND c.state IN ('uploaded','immutable') AND c.version_id IS NOT NULL`,
      [file.assetId],
    );
    const ordered = [...rows].sort((a, b) => rank(a) - rank(b));
    const tried: string[] = [];
    for (const r of ordered) {
      const source: RestoreSource = r.kind === 'target' ? 'offsite' : r.role!;
      if ((from && source !== from) || skip.has(source)) continue;
      if (r.kind === 'volume') {
        const path = new VolumeFiles(r.role!, r.root_path!).finalPath(r.location!);
        const st = await stat(path).catch(() => null);
        if (!st || st.size !== file.size) {
          tried.push(`${source}: ${st ? `${st.size} bytes on disk` : 'file missing'}`);
          const kind = !st ? DamageKind.Missing : st.size < file.size ? DamageKind.Short : DamageKind.Long;
          await this.onDamaged?.({
            assetId: file.assetId,
            copyId: r.copy_id!,
            kind,
            detail: st ? `${st.size} bytes on disk, ${file.size} expected` : `not on the ${source} volume`,
          });
          continue;
        }
        return { source, stream: createReadStream(path, { highWaterMark: 1024 * 1024 }), copyId: r.copy_id };
      }
      try {
        const driver = await this.driver(r.target_id!);
        const stream =
          file.size >= RANGED_FROM
            ? rangedGet(driver, r.location!, r.version_id!, file.size)
            : await driver.get(r.location!, r.version_id!);
        return { source, stream, copyId: null };
      } catch (err) {
        tried.push(`off-site: ${(err as Error).message}`);
      }
    }
    throw new AppError(
      ErrorCode.NoHealthyCopy,
      `${file.cardLabel}/${file.path}: no healthy ${from ?? ''} copy to restore from${tried.length ? ` (${tried.join('; ')})` : ''}`.replace(
        '  ',
        ' ',
      ),
    );
  }

  driver(targetId: string): Promise<OffsiteTarget> {
    let d = this.drivers.get(targetId);
    if (!d) {
      d = this.targets.get(targetId).then((t) => this.targets.open(t));
      this.drivers.set(targetId, d);
    }
    return d;
  }
}

const MiB = 1024 * 1024;
/** Large files come down in ranges, several at once (one HTTP stream rarely fills the link), in order. */
const RANGED_FROM = 64 * MiB;
const RANGE_SIZE = 8 * MiB;
const RANGES_IN_FLIGHT = 4;

/**
 * Copies a range's bytes out of the socket's chunks into restore buffers as they arrive: the
 * chunks die young (a range waiting its turn would otherwise keep 8 MiB of them alive long
 * enough to reach V8's old generation), and the writer writes these buffers as they are.
 */
async function gather(stream: Readable): Promise<Buffer[]> {
  const gathered = new ChunkGatherer(restoreBuffers);
  const out: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      out.push(...gathered.add(chunk));
      chunksDone(chunk.length);
    }
  } catch (err) {
    gathered.drop();
    throw err;
  }
  const rest = gathered.rest();
  if (rest) out.push(rest);
  return out;
}

export function rangedGet(driver: OffsiteTarget, key: string, versionId: string, size: number): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    const fetchRange = (start: number) => {
      const p = driver.get(key, versionId, { start, end: Math.min(size, start + RANGE_SIZE) - 1 }).then(gather);
      p.catch(() => undefined); // awaited in order below; no unhandled rejection meanwhile
      return p;
    };
    const inFlight: Promise<Buffer[]>[] = [];
    let next = 0;
    while (next < size && inFlight.length < RANGES_IN_FLIGHT) {
      inFlight.push(fetchRange(next));
      next += RANGE_SIZE;
    }
    while (inFlight.length) {
      const buffers = await inFlight.shift()!;
      if (next < size) {
        inFlight.push(fetchRange(next));
        next += RANGE_SIZE;
      }
      yield* buffers;
    }
  }
  return Readable.from(parts(), { objectMode: false });
}

function rank(r: CopyRow): number {
  return r.kind === 'target' ? 2 : r.role === 'primary' ? 0 : 1;
}
