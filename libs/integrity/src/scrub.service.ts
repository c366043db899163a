import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { SettingEntity, StorageVolumeEntity } from '@studiovault/catalog';
import { AppError, currentContext } from '@studiovault/common';
import { DamageKind, ErrorCode, FindingSource, VolumeState } from '@studiovault/contracts';
import { readFromDevice } from '@studiovault/hashing';
import { CopyDamageService, type Finding, IngestService, VolumeOfflineError } from '@studiovault/ingest';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { VolumesService } from '@studiovault/volumes';
import {
  DEFAULT_SCRUB_SETTINGS,
  inQuietHours,
  RatePacer,
  SCRUB_SETTINGS_KEY,
  type ScrubSettings,
  validateScrubSettings,
} from './scrub-settings';

const MB = 1_000_000;
/** A slice that yields to an ingest or a restore tries again after this long. */
const BUSY_RETRY_SECONDS = 15;

export interface ScrubPass {
  id: string;
  trigger: 'schedule' | 'manual';
  projectId: string | null;
  state: 'running' | 'completed' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  filesTotal: number;
  bytesTotal: number;
  filesDone: number;
  bytesDone: number;
  findings: number;
  pausedReason: string | null;
  message: string | null;
}

export interface ScrubCoverage {
  cycleDays: number;
  /** Local copies on online volumes that the scrub covers. */
  copies: number;
  /** Of them, re-read by the scrub within the last cycleDays. */
  scrubbedInCycle: number;
  /** Re-read from the device within the cycle by the scrub or the ingest's verification. */
  checkedInCycle: number;
  /** The oldest last check (scrub or verification) of a copy; null when there are none. */
  oldestCheckAt: Date | null;
}

export interface ScrubStatus {
  settings: ScrubSettings;
  running: ScrubPass | null;
  last: ScrubPass | null;
  coverage: ScrubCoverage;
  openFindings: number;
  findings: Finding[];
}

interface DueCopy {
  id: string;
  asset_id: string;
  location: string;
  volume_id: string;
  size: string;
  xxh64: string;
}

/**
 * The scrub: re-reads every local copy on both volumes from its device (O_DIRECT, as the
 * verification does) and compares it with the source hash, so that each copy is re-verified at
 * least once per cycle. It works in slices (a job run reads at most sliceFiles / sliceMB, then
 * queues the next), yields to ingests and restores, keeps to the admin's I/O cap and stays out of
 * the quiet hours. What it finds goes to CopyDamageService: recorded, marked, healed.
 */
@Injectable()
export class ScrubService {
  private readonly log = new Logger(ScrubService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly volumes: VolumesService,
    private readonly ingest: IngestService,
    private readonly damage: CopyDamageService,
    private readonly queue: JobQueue,
    private readonly audit: AuditService,
  ) {}

  // ---- settings ----

  async settings(): Promise<ScrubSettings> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SCRUB_SETTINGS_KEY } });
    return { ...DEFAULT_SCRUB_SETTINGS, ...((row?.value as Partial<ScrubSettings> | undefined) ?? {}) };
  }

  async setSettings(change: Partial<ScrubSettings>): Promise<ScrubSettings> {
    const next = validateScrubSettings(await this.settings(), change);
    await this.db.getRepository(SettingEntity).save({ key: SCRUB_SETTINGS_KEY, value: next });
    await this.audit.record('settings.scrub', undefined, { ...next });
    return next;
  }

  // ---- passes ----

  /** Starts a pass over every local copy (of one project) now; an admin's request. */
  async start(projectSlug?: string): Promise<ScrubPass> {
    let projectId: string | null = null;
    if (projectSlug) {
      const [p] = await this.db.query(`SELECT id FROM projects WHERE slug = $1`, [projectSlug]);
      if (!p) throw new AppError(ErrorCode.NotFound, `No project "${projectSlug}"`);
      projectId = p.id;
    }
    const running = await this.runningPass();
    if (running)
      throw new AppError(ErrorCode.Conflict, 'A scrub pass is running already; see `studiovault scrub status`', [`pass=${running.id}`]);
    const actor = currentContext().actor;
    const pass = await this.createPass('manual', projectId, actor?.via === 'system' ? null : (actor?.userId ?? null));
    await this.audit.record('scrub.start', { type: 'scrub_pass', id: pass.id }, { project: projectSlug ?? null, files: pass.filesTotal });
    await this.queue.send(JobName.ScrubRun, {});
    return pass;
  }

  private async createPass(trigger: 'schedule' | 'manual', projectId: string | null, by: string | null): Promise<ScrubPass> {
    const [row] = await this.db.query(`INSERT INTO scrub_passes (trigger, project_id, requested_by) VALUES ($1, $2, $3) RETURNING id`, [
      trigger,
      projectId,
      by,
    ]);
    const pass = (await this.pass(row.id))!;
    const settings = await this.settings();
    const [t] = await this.db.query(
      `SELECT count(*)::int AS files, coalesce(sum(a.size), 0)::text AS bytes ${this.scopeSql()}`,
      this.scopeParams(pass, settings),
    );
    await this.db.query(`UPDATE scrub_passes SET files_total = $2, bytes_total = $3 WHERE id = $1`, [pass.id, t.files, t.bytes]);
    return (await this.pass(row.id))!;
  }

  /** The copies a pass still has to read: verified local copies on online volumes not read since the pass's threshold. */
  private scopeSql(): string {
    return `FROM copies c JOIN assets a ON a.id = c.asset_id JOIN storage_volumes v ON v.id = c.volume_id
             WHERE c.volume_id IS NOT NULL AND c.state = 'verified' AND v.state <> 'offline' AND a.xxh64 IS NOT NULL
               AND ($1::uuid IS NULL OR a.project_id = $1::uuid)
               AND coalesce(c.last_scrubbed_at, CASE WHEN $3 THEN c.verified_at END, '-infinity') < $2`;
  }

  /**
   * A manual pass reads every copy not scrubbed since it started; a scheduled one the copies not
   * checked (scrubbed or verified) for a quarter of the cycle, so passes come about four times a cycle.
   */
  private scopeParams(pass: ScrubPass, s: ScrubSettings): unknown[] {
    const threshold = pass.trigger === 'manual' ? pass.startedAt : new Date(pass.startedAt.getTime() - (s.cycleDays * 86400_000) / 4);
    return [pass.projectId, threshold, pass.trigger === 'schedule'];
  }

  /**
   * One slice: continues the running pass (or starts a scheduled one when a copy has gone half a
   * cycle unchecked), reads up to a slice of copies, and queues the next slice.
   */
  @OnJob(JobName.ScrubRun)
  async runSlice(): Promise<{ pass: string | null; files: number; bytes: number; state?: string; paused?: string }> {
    const s = await this.settings();
    let pass = await this.runningPass();
    if (!pass) {
      if (inQuietHours(s)) return { pass: null, files: 0, bytes: 0 };
      const [due] = await this.db.query(
        `SELECT count(*)::int AS n FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
          WHERE c.volume_id IS NOT NULL AND c.state = 'verified' AND v.state <> 'offline'
            AND coalesce(c.last_scrubbed_at, c.verified_at) < now() - make_interval(secs => $1)`,
        [(s.cycleDays * 86400) / 2],
      );
      if (!due.n) return { pass: null, files: 0, bytes: 0 };
      try {
        pass = await this.createPass('schedule', null, null);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') return { pass: null, files: 0, bytes: 0 }; // another worker started one
        throw err;
      }
    }
    if (pass.trigger === 'schedule' && inQuietHours(s)) return this.pause(pass, 'quiet hours', null);
    const busy = await this.busy();
    if (busy) return this.pause(pass, busy, BUSY_RETRY_SECONDS);
    if (pass.pausedReason) await this.db.query(`UPDATE scrub_passes SET paused_reason = NULL WHERE id = $1`, [pass.id]);

    const rows: DueCopy[] = await this.db.query(
      `SELECT c.id::text, c.asset_id::text, c.location, c.volume_id, a.size::text, a.xxh64 ${this.scopeSql()}
        ORDER BY c.asset_id, c.id LIMIT ${Math.max(1, Math.floor(s.sliceFiles))}`,
      this.scopeParams(pass, s),
    );
    if (!rows.length) return this.finish(pass);
    const vols = new Map((await this.volumes.list()).map((v) => [v.id, v]));
    const pacer = new RatePacer(s.rateMBps > 0 ? s.rateMBps * MB : null);
    const started = Date.now();
    let files = 0;
    let bytes = 0;
    let findings = 0;
    let stopped: string | null = null;
    // One asset at a time, its copies at once (they are on two devices).
    for (let i = 0; i < rows.length;) {
      const group = rows.filter((r) => r.asset_id === rows[i].asset_id);
      i += group.length;
      const results = await Promise.all(group.map((r) => this.scrubCopy(r, vols.get(r.volume_id), pacer)));
      for (const r of results) {
        if (r === 'offline') stopped = 'a volume is offline';
        else {
          files++;
          bytes += r.bytes;
          if (r.finding) findings++;
        }
      }
      if (stopped) break;
      if (bytes >= s.sliceMB * MB) break;
      const nowBusy = await this.busy();
      if (nowBusy) {
        stopped = nowBusy;
        break;
      }
    }
    await this.db.query(
      `UPDATE scrub_passes SET files_done = files_done + $2, bytes_done = bytes_done + $3, findings = findings + $4,
              seconds_reading = seconds_reading + $5, updated_at = now() WHERE id = $1`,
      [pass.id, files, bytes, findings, (Date.now() - started) / 1000],
    );
    if (stopped) return { ...(await this.pause(pass, stopped, BUSY_RETRY_SECONDS)), files, bytes };
    // The last slice: the pass ends now, not a queue round-trip later.
    const [more] = await this.db.query(`SELECT 1 ${this.scopeSql()} LIMIT 1`, this.scopeParams(pass, s));
    if (!more) return { ...(await this.finish(pass)), files, bytes };
    await this.queue.send(JobName.ScrubRun, {});
    return { pass: pass.id, files, bytes, state: 'running' };
  }

  /** Re-reads one copy from its device; a finding is reported (marked, recorded, healed). */
  private async scrubCopy(
    r: DueCopy,
    vol: StorageVolumeEntity | undefined,
    pacer: RatePacer,
  ): Promise<'offline' | { bytes: number; finding: boolean }> {
    if (!vol || vol.state === VolumeState.Offline) return 'offline';
    const files = this.ingest.volumeFiles(vol);
    const path = files.finalPath(r.location);
    const size = Number(r.size);
    let kind: DamageKind | null = null;
    let detail = '';
    let read = 0;
    try {
      const got = await readFromDevice(path, ['xxh64'], pacer.take);
      read = got.bytes;
      if (got.bytes < size) kind = DamageKind.Short;
      else if (got.bytes > size) kind = DamageKind.Long;
      else if (got.hashes.xxh64 !== r.xxh64) kind = DamageKind.Mismatch;
      if (kind) detail = `read back ${got.bytes} bytes, xxh64 ${got.hashes.xxh64}; expected ${size} bytes, xxh64 ${r.xxh64}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      kind = code === 'ENOENT' ? DamageKind.Missing : DamageKind.ReadError;
      detail = code === 'ENOENT' ? `not on the ${vol.role} volume` : `reading failed: ${code ?? (err as Error).message}`;
    }
    if (kind) {
      // A file gone because its whole volume went away is not damage: the volume is offline.
      try {
        await files.assertOnline();
      } catch (err) {
        if (err instanceof VolumeOfflineError) return 'offline';
        throw err;
      }
      await this.damage.report({ assetId: r.asset_id, copyId: r.id, kind, foundBy: FindingSource.Scrub, detail });
      return { bytes: read, finding: true };
    }
    await this.db.query(`UPDATE copies SET last_scrubbed_at = now(), scrub_result = 'ok' WHERE id = $1`, [r.id]);
    return { bytes: read, finding: false };
  }

  /** Why the scrub should yield now: files being received, or a restore running. */
  private async busy(): Promise<string | null> {
    const [b] = await this.db.query(
      `SELECT (SELECT count(*)::int FROM uploads WHERE state = 'receiving' AND updated_at > now() - interval '2 minutes') AS uploads,
              (SELECT count(*)::int FROM restores WHERE state = 'running') AS restores`,
    );
    if (b.uploads) return `waiting for ${b.uploads} upload(s) being received`;
    if (b.restores) return 'waiting for a restore to finish';
    return null;
  }

  private async pause(pass: ScrubPass, why: string, retrySeconds: number | null) {
    await this.db.query(`UPDATE scrub_passes SET paused_reason = $2, updated_at = now() WHERE id = $1`, [pass.id, why]);
    // Quiet hours: the cron tick resumes it; busy: try again shortly.
    if (retrySeconds) await this.queue.send(JobName.ScrubRun, {}, { startAfterSeconds: retrySeconds });
    return { pass: pass.id, files: 0, bytes: 0, state: 'running', paused: why };
  }

  private async finish(pass: ScrubPass) {
    await this.db.query(
      `UPDATE scrub_passes SET state = 'completed', finished_at = now(), paused_reason = NULL, updated_at = now() WHERE id = $1`,
      [pass.id],
    );
    const done = (await this.pass(pass.id))!;
    await this.audit.record(
      'scrub.complete',
      { type: 'scrub_pass', id: pass.id },
      { trigger: done.trigger, files: done.filesDone, bytes: done.bytesDone, findings: done.findings },
    );
    this.log.log(`Scrub pass ${pass.id}: ${done.filesDone} copies re-read, ${done.findings} finding(s)`);
    return { pass: pass.id, files: 0, bytes: 0, state: 'completed' };
  }

  async runningPass(): Promise<ScrubPass | null> {
    const [row] = await this.db.query(`SELECT id FROM scrub_passes WHERE state = 'running' LIMIT 1`);
    return row ? this.pass(row.id) : null;
  }

  async pass(id: string): Promise<ScrubPass | null> {
    const [r] = await this.db.query(`SELECT * FROM scrub_passes WHERE id = $1`, [id]);
    if (!r) return null;
    return {
      id: r.id,
      trigger: r.trigger,
      projectId: r.project_id,
      state: r.state,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      filesTotal: Number(r.files_total),
      bytesTotal: Number(r.bytes_total),
      filesDone: Number(r.files_done),
      bytesDone: Number(r.bytes_done),
      findings: Number(r.findings),
      pausedReason: r.paused_reason,
      message: r.message,
    };
  }

  async status(): Promise<ScrubStatus> {
    const settings = await this.settings();
    const running = await this.runningPass();
    const [lastRow] = await this.db.query(`SELECT id FROM scrub_passes WHERE state <> 'running' ORDER BY started_at DESC LIMIT 1`);
    const [c] = await this.db.query(
      `SELECT count(*)::int AS copies,
              count(*) FILTER (WHERE c.last_scrubbed_at >= now() - make_interval(days => $1))::int AS scrubbed,
              count(*) FILTER (WHERE coalesce(c.last_scrubbed_at, c.verified_at) >= now() - make_interval(days => $1))::int AS checked,
              min(coalesce(c.last_scrubbed_at, c.verified_at)) AS oldest
         FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
        WHERE c.volume_id IS NOT NULL AND c.state IN ('verified','mismatch','missing') AND v.state <> 'offline'`,
      [settings.cycleDays],
    );
    const [open] = await this.db.query(`SELECT count(*)::int AS n FROM integrity_findings WHERE outcome IN ('open','no_good_copy')`);
    return {
      settings,
      running,
      last: lastRow ? await this.pass(lastRow.id) : null,
      coverage: {
        cycleDays: settings.cycleDays,
        copies: c.copies,
        scrubbedInCycle: c.scrubbed,
        checkedInCycle: c.checked,
        oldestCheckAt: c.oldest,
      },
      openFindings: open.n,
      findings: await this.damage.findings({ limit: 20 }),
    };
  }
}
