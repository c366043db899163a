import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isAbsolute } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { TargetsService } from '@studiovault/backup';
import { AppError, currentContext } from '@studiovault/common';
import {
  compileRestorePattern,
  DamageKind,
  ErrorCode,
  FindingSource,
  RestorePatternError,
  type RestoreMatcher,
} from '@studiovault/contracts';
import { CopyDamageService, versionedPath } from '@studiovault/ingest';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { AllowedFoldersService } from '@studiovault/volumes';
import { RestoreWriter } from './restore-writer';
import { AssetSources, type RestorableFile, type RestoreSource } from './sources';

export interface RestoreSelection {
  projectSlug: string;
  card?: string;
  /** Matched against the path on the card ("DCIM/**\/*.CR3", "*.JPG"): compileRestorePattern's rule, as in the CLI. */
  path?: string;
  /** The files the project had at this time. */
  at?: Date;
}

export interface RestorePlan {
  project: { id: string; slug: string; name: string };
  files: RestorableFile[];
  bytes: number;
}

export interface RestoreRow {
  id: string;
  project_id: string;
  slug: string;
  card_id: string | null;
  card_label: string | null;
  path_glob: string | null;
  source: 'auto' | RestoreSource;
  at: Date | null;
  destination: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  files: number;
  bytes: string;
  done_files: number;
  done_bytes: string;
  restored: number;
  verified: number;
  failed: number;
  errors: { path: string; message: string }[];
  message: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
}

const RESTORE_CONCURRENCY = 4;

/**
 * The path a file is restored to under the destination: <card label>/<path on the card>, the
 * name byte for byte as the card gave it (macOS: NFD), as on the volumes and in the ASC MHL (a
 * different-content twin keeps its ~vN suffix).
 */
export function restorePath(f: Pick<RestorableFile, 'cardLabel' | 'path' | 'version'>): string {
  return `${f.cardLabel}/${versionedPath(f.path, f.version)}`;
}

/** A restore pattern, compiled; a bad one is the client's error (400 INVALID_RESTORE_PATTERN). */
export function restorePattern(pattern: string): RestoreMatcher {
  try {
    return compileRestorePattern(pattern);
  } catch (err) {
    if (err instanceof RestorePatternError) throw new AppError(ErrorCode.InvalidRestorePattern, err.message, [`path: ${err.message}`]);
    throw err;
  }
}

/**
 * Restores: which files a selection means (a project, a card, a glob, as of a date), where each
 * is read from (the best healthy copy unless told), and restores into a folder on the NAS as a
 * job with progress; every file's SHA-256 is checked as it is written and nothing is overwritten.
 */
@Injectable()
export class RestoreService {
  private readonly log = new Logger(RestoreService.name);
  readonly sources: AssetSources;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly targets: TargetsService,
    private readonly queue: JobQueue,
    private readonly audit: AuditService,
    private readonly folders: AllowedFoldersService,
    private readonly damage: CopyDamageService,
  ) {
    this.sources = new AssetSources(db, targets, (r) => damage.report({ ...r, foundBy: FindingSource.Restore }).then(() => undefined));
  }

  async plan(sel: RestoreSelection): Promise<RestorePlan> {
    const matcher = sel.path === undefined ? null : restorePattern(sel.path);
    const [project] = await this.db.query(`SELECT id, slug, name, created_at FROM projects WHERE slug = $1`, [sel.projectSlug]);
    if (!project) throw new AppError(ErrorCode.NotFound, `No project "${sel.projectSlug}"`);
    if (sel.at && sel.at.getTime() < new Date(project.created_at).getTime())
      throw new AppError(
        ErrorCode.ValidationFailed,
        `Project "${sel.projectSlug}" did not exist at ${sel.at.toISOString()} (created ${new Date(project.created_at).toISOString()})`,
        ['at: before the project existed'],
      );
    const params: unknown[] = [project.id];
    let where = '';
    if (sel.card) {
      params.push(sel.card);
      where += ` AND lower(cd.label) = lower($${params.length})`;
      const [found] = await this.db.query(`SELECT 1 FROM cards WHERE project_id = $1 AND lower(label) = lower($2)`, [project.id, sel.card]);
      if (!found) throw new AppError(ErrorCode.CardNotFound, `Project "${sel.projectSlug}" has no card "${sel.card}"`);
    }
    if (sel.at) {
      params.push(sel.at);
      where += ` AND a.created_at <= $${params.length}`;
    }
    const rows: {
      asset_id: string;
      card_id: string;
      label: string;
      relative_path: string;
      version: number;
      size: string;
      sha256: string | null;
      xxh64: string | null;
    }[] = await this.db.query(
      `SELECT coalesce(a.duplicate_of_asset_id, a.id)::text AS asset_id, a.card_id, cd.label, a.relative_path, a.version, a.size::text,
              coalesce(a.sha256, o.sha256) AS sha256, coalesce(a.xxh64, o.xxh64) AS xxh64
         FROM assets a JOIN cards cd ON cd.id = a.card_id LEFT JOIN assets o ON o.id = a.duplicate_of_asset_id
        WHERE a.project_id = $1 AND a.protection <> 'uploading' ${where}
        ORDER BY cd.label, a.relative_path_nfc, a.version`,
      params,
    );
    const files: RestorableFile[] = rows
      .filter((r) => r.sha256 && (!matcher || matcher.matches(r.relative_path)))
      .map((r) => ({
        assetId: r.asset_id,
        cardId: r.card_id,
        cardLabel: r.label,
        path: r.relative_path,
        version: r.version,
        size: Number(r.size),
        sha256: r.sha256!,
        xxh64: r.xxh64,
      }));
    if (!files.length) {
      const what = [sel.card && `card ${sel.card}`, sel.path && `paths matching ${sel.path}`, sel.at && `as of ${sel.at.toISOString()}`]
        .filter(Boolean)
        .join(', ');
      throw new AppError(ErrorCode.NotFound, `Nothing to restore in "${sel.projectSlug}"${what ? ` (${what})` : ''}`);
    }
    return { project: { id: project.id, slug: project.slug, name: project.name }, files, bytes: files.reduce((a, f) => a + f.size, 0) };
  }

  /**
   * Checks the destination now (inside an allowed restore folder with symlinks resolved, writable,
   * room, no file in the way), then restores as a job into the folder as resolved.
   */
  async startFolderRestore(sel: RestoreSelection & { from?: RestoreSource; destination: string }): Promise<RestoreRow> {
    const plan = await this.plan(sel);
    if (!isAbsolute(sel.destination))
      throw new AppError(ErrorCode.ValidationFailed, `Restore destination must be an absolute folder: ${sel.destination}`, [
        'destination: absolute path',
      ]);
    const folder = await this.folders.check('restore', sel.destination);
    await this.folders.create('restore', folder);
    await RestoreWriter.prepare(folder.path, plan.bytes, plan.files.map(restorePath));
    const destination = folder.path;
    const card = sel.card ? plan.files[0].cardId : null;
    const [{ id }] = await this.db.query(
      `INSERT INTO restores (project_id, card_id, path_glob, source, at, destination, files, bytes, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        plan.project.id,
        card,
        sel.path ?? null,
        sel.from ?? 'auto',
        sel.at ?? null,
        destination,
        plan.files.length,
        plan.bytes,
        currentContext()?.actor?.userId && currentContext()!.actor!.userId !== 'system' ? currentContext()!.actor!.userId : null,
      ],
    );
    await this.audit.record(
      'restore.start',
      { type: 'restore', id },
      {
        project: plan.project.slug,
        card: sel.card,
        path: sel.path,
        from: sel.from ?? 'auto',
        at: sel.at?.toISOString(),
        destination,
        files: plan.files.length,
        bytes: plan.bytes,
      },
    );
    await this.queue.send(JobName.RestoreRun, { restoreId: id });
    return this.get(id);
  }

  @OnJob(JobName.RestoreRun)
  async run(data: { restoreId: string }): Promise<unknown> {
    const r = await this.get(data.restoreId);
    if (r.state !== 'queued') return { state: r.state };
    await this.db.query(`UPDATE restores SET state = 'running', started_at = now(), updated_at = now() WHERE id = $1`, [r.id]);
    try {
      const plan = await this.plan({
        projectSlug: r.slug,
        card: r.card_label ?? undefined,
        path: r.path_glob ?? undefined,
        at: r.at ?? undefined,
      });
      // The folder was checked when the restore started; a symlink put in its way since is refused.
      const folder = await this.folders.recheck('restore', r.destination);
      const writer = new RestoreWriter(folder.path, folder.root);
      let lastUpdate = 0;
      let doneBytes = 0;
      // A few files at a time: one stream per file rarely fills a 10 Gbit/s link or an HDD pool's queue.
      // Largest first: a big video started last would finish alone, with the other streams idle.
      const order = [...plan.files].sort((a, b) => b.size - a.size);
      let next = 0;
      const worker = async () => {
        while (next < order.length) {
          const f = order[next++];
          const rel = restorePath(f);
          try {
            // The best copy first; if it does not match its hash, the copy is marked and the next one is read.
            const tried = new Set<RestoreSource>();
            for (;;) {
              const { stream, source, copyId } = await this.sources.open(f, r.source === 'auto' ? undefined : r.source, tried);
              const out = await writer.write(rel, stream, f, (n) => {
                doneBytes += n;
                if (Date.now() - lastUpdate > 1000) {
                  lastUpdate = Date.now();
                  void this.db.query(`UPDATE restores SET done_bytes = $2, updated_at = now() WHERE id = $1`, [r.id, doneBytes]);
                }
              });
              if (out.ok) {
                await this.db.query(
                  `UPDATE restores SET done_files = done_files + 1, restored = restored + 1, verified = verified + 1, done_bytes = $2, updated_at = now() WHERE id = $1`,
                  [r.id, doneBytes],
                );
                break;
              }
              doneBytes -= out.bytes;
              if (copyId && out.error?.startsWith('content does not match'))
                await this.markDamaged(copyId, f.assetId, `${source} copy: ${out.error}`);
              tried.add(source);
              if (r.source !== 'auto' || !out.error?.startsWith('content does not match')) {
                await this.fail(r.id, rel, `${source} copy: ${out.error!}`);
                break;
              }
            }
          } catch (err) {
            await this.fail(r.id, rel, (err as Error).message);
          }
        }
      };
      await Promise.all(Array.from({ length: RESTORE_CONCURRENCY }, worker));
      const done = await this.get(r.id);
      const message = `${done.restored} restored, ${done.verified} verified, ${done.failed} failed`;
      await this.db.query(`UPDATE restores SET state = $2, finished_at = now(), message = $3, updated_at = now() WHERE id = $1`, [
        r.id,
        done.failed ? 'failed' : 'completed',
        message,
      ]);
      this.log.log(`restore ${r.id} of ${r.slug} to ${r.destination}: ${message}`);
      return { state: done.failed ? 'failed' : 'completed', restored: done.restored, failed: done.failed };
    } catch (err) {
      await this.db.query(`UPDATE restores SET state = 'failed', finished_at = now(), message = $2, updated_at = now() WHERE id = $1`, [
        r.id,
        (err as Error).message,
      ]);
      return { state: 'failed' };
    }
  }

  /** A restore read a local copy that does not match: reported (marked, the file at risk, the heal queued). */
  private async markDamaged(copyId: string, assetId: string, why: string): Promise<void> {
    await this.damage.report({ assetId, copyId, kind: DamageKind.Mismatch, foundBy: FindingSource.Restore, detail: why.slice(0, 1000) });
  }

  private async fail(id: string, path: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE restores SET done_files = done_files + 1, failed = failed + 1,
              errors = CASE WHEN jsonb_array_length(errors) < 200 THEN errors || $2::jsonb ELSE errors END, updated_at = now()
        WHERE id = $1`,
      [id, JSON.stringify([{ path, message: message.slice(0, 1000) }])],
    );
  }

  async get(id: string): Promise<RestoreRow> {
    const [row] = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.db.query(
          `SELECT r.*, p.slug, cd.label AS card_label FROM restores r JOIN projects p ON p.id = r.project_id
             LEFT JOIN cards cd ON cd.id = r.card_id WHERE r.id = $1`,
          [id],
        )
      : [];
    if (!row) throw new AppError(ErrorCode.NotFound, `No restore with id ${id}`);
    return row;
  }

  list(limit: number): Promise<RestoreRow[]> {
    return this.db.query(
      `SELECT r.*, p.slug, cd.label AS card_label FROM restores r JOIN projects p ON p.id = r.project_id
         LEFT JOIN cards cd ON cd.id = r.card_id ORDER BY r.created_at DESC LIMIT $1`,
      [limit],
    );
  }

  /** One file's bytes for a download (the CLI verifies them as it writes). */
  async download(assetId: string, from?: RestoreSource) {
    const [row] = /^\d+$/.test(assetId)
      ? await this.db.query(
          `SELECT coalesce(a.duplicate_of_asset_id, a.id)::text AS asset_id, a.card_id, cd.label, a.relative_path, a.version, a.size::text,
                  coalesce(a.sha256, o.sha256) AS sha256, coalesce(a.xxh64, o.xxh64) AS xxh64
             FROM assets a JOIN cards cd ON cd.id = a.card_id LEFT JOIN assets o ON o.id = a.duplicate_of_asset_id WHERE a.id = $1`,
          [assetId],
        )
      : [];
    if (!row || !row.sha256) throw new AppError(ErrorCode.NotFound, `No restorable file with id ${assetId}`);
    const file: RestorableFile = {
      assetId: row.asset_id,
      cardId: row.card_id,
      cardLabel: row.label,
      path: row.relative_path,
      version: row.version,
      size: Number(row.size),
      sha256: row.sha256,
      xxh64: row.xxh64,
    };
    const { source, stream } = await this.sources.open(file, from);
    return { file, source, stream };
  }
}
