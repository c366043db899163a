import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { AppError } from '@studiovault/common';
import { BackupRunEntity, type BackupRunError, OffsiteTargetEntity, SettingEntity } from '@studiovault/catalog';
import { AppConfig, CONFIG } from '@studiovault/config';
import { DamageKind, ErrorCode, FileClass, FindingSource, LockMode, RunState, RunTrigger, TargetKind } from '@studiovault/contracts';
import { cardFolder, CopyDamageService, projectYear, VolumeFiles } from '@studiovault/ingest';
import { JOB_DEFINITIONS, JobName, JobQueue, OnJob } from '@studiovault/jobs';
import {
  abortStaleMultipartUploads,
  BufferPool,
  ensureRetention,
  isNotFound,
  isPermanent,
  isTargetError,
  LocalCopyDamaged,
  type OffsiteTarget,
  type Retention,
  uploadFile,
} from '@studiovault/offsite';
import { CATALOG_EXPORT_KEY, contentKey, manifestKey, mhlKey, README_KEY, TARGET_README } from './object-layout';
import { lockFor, type PolicyRow } from './retention-rules';
import { applyJobSchedule } from './job-schedule';
import { nextWallClock, scheduleProblems, serverTimeZone } from './schedule';
import { TargetsService } from './targets.service';
import { Throttle } from './throttle';

const MiB = 1024 * 1024;
const SETTINGS_KEY = 'backup.settings';
/** A job slice uploads for at most this long, then re-queues the run (a crashed slice costs little). */
const SLICE_MS = 20 * 60_000;
/** A file's claim lasts this long and is extended with every part sent. */
const CLAIM_MINUTES = 30;
const BATCH = 32;
/** Files in flight at once, of which at most LARGE_SLOTS multipart files sending PART_CONCURRENCY parts each. */
const WORKERS = 12;
const LARGE_SLOTS = 2;
const PART_CONCURRENCY = 3;
const PART_SIZE = 8 * MiB;
const MULTIPART_THRESHOLD = 64 * MiB;
const MAX_STORED_ERRORS = 100;
/** Unfinished multipart uploads nobody resumes are aborted after this long. */
const STALE_MULTIPART_MS = 24 * 3600_000;
/** Target-level failures after which a run stops trying file after file. */
const TARGET_FAILURES_BEFORE_STOP = 3;
const NO_LOCAL_COPY = 'no verified local copy is readable';

export interface BackupSettings {
  /** Cron (5 fields) in `timezone`: when the nightly run starts. */
  schedule: string;
  timezone: string;
  /** "HH:MM": a nightly run pauses here and resumes the next night; null: no window. */
  windowEnd: string | null;
  /** Cap in MB/s (10^6 bytes) for every run; null: unlimited. */
  bandwidthMBps: number | null;
  /** Start a run as soon as a card is verified. */
  onIngest: boolean;
}

export const DEFAULT_BACKUP_SETTINGS: BackupSettings = {
  schedule: '0 1 * * *',
  timezone: 'UTC',
  windowEnd: '07:00',
  bandwidthMBps: null,
  onIngest: true,
};

export interface RunJobData {
  targetId: string;
  runId?: string;
  trigger?: RunTrigger;
  /** How often this job found the target busy and came back. */
  waits?: number;
}

interface PendingFile {
  id: string;
  sha256: string;
  xxh64: string | null;
  size: string;
  file_class: FileClass;
  relative_path: string;
  card_id: string;
  project_type: string | null;
  legal_hold: boolean;
}

interface RunContext {
  run: BackupRunEntity;
  target: OffsiteTargetEntity;
  driver: OffsiteTarget;
  throttle: Throttle;
  policies: PolicyRow[];
  claimant: string;
  sliceEnds: number;
  /** Target-level failures in a row (unreachable, credentials): the run stops after a few. */
  targetFailures: number;
  lastTargetError?: unknown;
  /** The run's part buffers: LARGE_SLOTS × (PART_CONCURRENCY + 1) × PART_SIZE, reused. */
  partBuffers: BufferPool;
  /** Files put back to "pending" after a transient failure, until they land. */
  requeued: Set<string>;
}

export interface BackupStatus {
  pending: { files: number; bytes: number };
  offsite: { files: number; bytes: number };
  immutable: { files: number; bytes: number };
}

/** The message of a run paused because its removable drive is unplugged. */
export const WAITING_FOR_DRIVE = 'waiting for the drive';

/** Errors that are about the target, not the file: retrying the next file will not help. */
function isTargetLevel(err: unknown): boolean {
  if (!isTargetError(err)) return false;
  if (err.kind === 'transient') return true;
  return ['InvalidCredentials', 'AccessDenied', 'BucketNotFound', 'Unreachable'].includes(err.code);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The off-site upload engine. A run (nightly, after a card's ingest, or by hand) walks the files
 * that are verified locally and have no good copy on the target, claims each one, and uploads it
 * content-addressed (the same bytes are stored once), with the lock of its retention class read
 * back before the copy counts as "immutable". Then it writes each finished card's manifest and
 * ASC MHL files, and, at night, the catalog export. One run per target at a time (a Postgres
 * advisory lock); claims keep two workers off the same file; multipart state lives in Postgres.
 */
@Injectable()
export class BackupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(BackupService.name);
  private stopping = false;
  /** Unfinished multipart uploads nobody resumes are aborted after this long (tests shorten it). */
  staleMultipartMs = STALE_MULTIPART_MS;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly queue: JobQueue,
    private readonly targets: TargetsService,
    private readonly audit: AuditService,
    private readonly damage: CopyDamageService,
  ) {}

  onApplicationBootstrap(): void {
    // Once the queue is up: the nightly schedule from the settings, and runs a crash left behind.
    this.queue.onStarted(async (role) => {
      try {
        const s = await this.settings();
        await this.queue.schedule(JobName.BackupNightly, s.schedule, s.timezone);
        if (role === 'worker') await this.resumeInterruptedRuns();
      } catch (err) {
        this.log.error(`backup schedule: ${messageOf(err)}`);
      }
    });
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  // ---- settings ----

  async settings(): Promise<BackupSettings> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SETTINGS_KEY } });
    return { ...DEFAULT_BACKUP_SETTINGS, timezone: serverTimeZone(), ...((row?.value as Partial<BackupSettings>) ?? {}) };
  }

  async setSettings(next: BackupSettings): Promise<BackupSettings> {
    const problems = scheduleProblems(next.schedule, next.timezone, '0 1 * * *');
    if (next.windowEnd !== null && !/^([01]\d|2[0-3]):[0-5]\d$/.test(next.windowEnd)) problems.push('windowEnd: "HH:MM" (24 h) or null');
    if (next.bandwidthMBps !== null && !(next.bandwidthMBps > 0 && next.bandwidthMBps <= 100_000))
      problems.push('bandwidthMBps: a number of MB/s above 0, or null for no cap');
    if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'Invalid backup settings', problems);
    const value: BackupSettings = { ...next, schedule: next.schedule.trim() };
    await applyJobSchedule(this.queue, JobName.BackupNightly, value.schedule, value.timezone, 'backup');
    await this.db.getRepository(SettingEntity).upsert({ key: SETTINGS_KEY, value }, ['key']);
    await this.audit.record('settings.backup', undefined, { ...value });
    return value;
  }

  // ---- starting runs ----

  /** Starts a run on each enabled target (or the one given), or returns the one already going. */
  async startRuns(trigger: RunTrigger, targetId?: string): Promise<BackupRunEntity[]> {
    const targets = targetId ? [await this.targets.get(targetId)] : (await this.targets.list()).filter((t) => t.enabled);
    if (targetId && !targets[0].enabled)
      throw new AppError(ErrorCode.Conflict, `Target "${targets[0].name}" is disabled: enable it to back up to it`);
    const runs: BackupRunEntity[] = [];
    for (const t of targets) {
      let run = await this.activeRun(t.id);
      if (run && run.state === RunState.Paused) {
        // Resumed by hand or by ingest: it runs now, without the night's window.
        await this.db.getRepository(BackupRunEntity).update(run.id, { state: RunState.Queued, windowEnd: null, message: null });
        run = (await this.activeRun(t.id))!;
      }
      if (!run) run = await this.createRun(t.id, trigger, null);
      await this.queue.send(JobName.BackupRun, { targetId: t.id, runId: run.id } satisfies RunJobData);
      runs.push(run);
    }
    return runs;
  }

  private async createRun(targetId: string, trigger: RunTrigger, windowEnd: Date | null): Promise<BackupRunEntity> {
    const repo = this.db.getRepository(BackupRunEntity);
    return repo.save(
      repo.create({
        targetId,
        trigger,
        state: RunState.Queued,
        files: 0,
        filesSkipped: 0,
        bytes: '0',
        errorCount: 0,
        errors: [],
        windowEnd,
      }),
    );
  }

  activeRun(targetId: string): Promise<BackupRunEntity | null> {
    return this.db.getRepository(BackupRunEntity).findOne({
      where: [
        { targetId, state: RunState.Running },
        { targetId, state: RunState.Queued },
        { targetId, state: RunState.Paused },
      ],
      order: { createdAt: 'DESC' },
    });
  }

  /** The nightly tick: resume a paused run or start one per enabled target, each with tonight's window. */
  @OnJob(JobName.BackupNightly)
  async nightly(): Promise<{ runs: number }> {
    const s = await this.settings();
    const windowEnd = s.windowEnd ? nextWallClock(s.windowEnd, s.timezone) : null;
    let n = 0;
    for (const t of (await this.targets.list()).filter((x) => x.enabled)) {
      let run = await this.activeRun(t.id);
      if (run)
        await this.db
          .getRepository(BackupRunEntity)
          .update(run.id, { state: run.state === RunState.Paused ? RunState.Queued : run.state, windowEnd, message: null });
      else run = await this.createRun(t.id, RunTrigger.Nightly, windowEnd);
      await this.queue.send(JobName.BackupRun, { targetId: t.id, runId: run.id } satisfies RunJobData);
      n++;
    }
    return { runs: n };
  }

  /** A card was sealed: start uploading now (when the admin wants it), so "off-site started" can count. */
  @OnJob(JobName.BackupCard)
  async cardVerified(data: { cardId: string }): Promise<{ runs: number }> {
    if (!(await this.settings()).onIngest) return { runs: 0 };
    const runs = await this.startRuns(RunTrigger.Ingest);
    this.log.log(`card ${data.cardId} verified: off-site run(s) ${runs.map((r) => r.id).join(', ') || 'none (no target)'}`);
    return { runs: runs.length };
  }

  /**
   * Looks for each disk target's drive by its identity marker: a drive found is "seen" (last_seen_at),
   * and a run that waited for it resumes, so a replugged drive catches up by itself.
   */
  async checkDrives(): Promise<{ present: string[]; away: string[] }> {
    const present: string[] = [];
    const away: string[] = [];
    for (const t of await this.targets.list()) {
      if (t.kind !== TargetKind.Disk || !t.enabled) continue;
      if (!t.markerUuid) await this.targets.adoptDriveMarker(t);
      const here = await this.targets.drivePresent(t);
      if (here === null) continue;
      if (!here) {
        away.push(t.name);
        continue;
      }
      present.push(t.name);
      await this.db.getRepository(OffsiteTargetEntity).update(t.id, { lastSeenAt: new Date() });
      const run = await this.activeRun(t.id);
      if (run?.state === RunState.Paused && (run.message ?? '').startsWith(WAITING_FOR_DRIVE)) {
        this.log.log(`drive "${t.name}" is back: resuming its off-site run`);
        await this.audit.record('target.drive_seen', { type: 'offsite_target', id: t.id }, { name: t.name }).catch(() => undefined);
        await this.startRuns(run.trigger, t.id);
      }
    }
    return { present, away };
  }

  /** At worker start: runs left "running" or "queued" by a crash get a job again (the advisory lock keeps it single). */
  private async resumeInterruptedRuns(): Promise<void> {
    const runs = await this.db.getRepository(BackupRunEntity).find({ where: [{ state: RunState.Running }, { state: RunState.Queued }] });
    for (const r of runs) await this.queue.send(JobName.BackupRun, { targetId: r.targetId, runId: r.id } satisfies RunJobData);
  }

  // ---- the run ----

  @OnJob(JobName.BackupRun)
  async runJob(data: RunJobData, meta?: { id: string; retryCount: number }): Promise<unknown> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext('studiovault:backup'), hashtext($1)) AS locked`, [
        data.targetId,
      ]);
      if (!locked) {
        // Another worker runs this target: it picks up new files as it goes; come back once in case it was finishing.
        if ((data.waits ?? 0) < 3)
          await this.queue.send(JobName.BackupRun, { ...data, waits: (data.waits ?? 0) + 1 }, { startAfterSeconds: 20 });
        return { busy: true };
      }
      try {
        return await this.runLocked(data, meta?.retryCount ?? 0);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext('studiovault:backup'), hashtext($1))`, [data.targetId]);
      }
    } finally {
      await runner.release();
    }
  }

  private async runLocked(data: RunJobData, retryCount: number): Promise<unknown> {
    const repo = this.db.getRepository(BackupRunEntity);
    let run = data.runId ? await repo.findOne({ where: { id: data.runId } }) : null;
    if (!run || ![RunState.Queued, RunState.Running].includes(run.state)) {
      // The job's run finished (or was paused) meanwhile: continue the target's active run, or start one if files wait.
      const active = await this.activeRun(data.targetId);
      if (active && active.state !== RunState.Paused) run = active;
      else if (!data.runId && data.trigger) run = await this.createRun(data.targetId, data.trigger, null);
      else return { run: run?.id ?? null, state: run?.state ?? 'none' };
    }
    const target = await this.db.getRepository(OffsiteTargetEntity).findOne({ where: { id: run.targetId } });
    if (!target || !target.enabled)
      return this.finish(run, RunState.Failed, `target ${target ? `"${target.name}" is disabled` : 'was deleted'}`);
    if ((await this.targets.drivePresent(target)) === false) {
      const path = (target.settings as { path?: string }).path;
      if (target.removable) {
        // An unplugged removable drive is waiting, not failing: the run resumes when the drive is seen again.
        const message = `${WAITING_FOR_DRIVE} "${target.name}" to be plugged in (${path})`;
        await repo.update(run.id, { state: RunState.Paused, message });
        return { run: run.id, state: RunState.Paused, message };
      }
      return this.finish(
        run,
        RunState.Failed,
        `the folder ${path} does not hold the drive marker of target "${target.name}": the drive is not mounted there, or it is another drive`,
      );
    }
    // Holding the target's lock, every other claim on it is a leftover of a crashed worker.
    await this.db.query(`UPDATE copies SET claimed_by = NULL, claimed_until = NULL WHERE target_id = $1 AND claimed_by IS NOT NULL`, [
      run.targetId,
    ]);
    await repo.update(run.id, { state: RunState.Running, startedAt: run.startedAt ?? new Date(), message: null });
    run = (await repo.findOneByOrFail({ id: run.id }))!;

    let driver: OffsiteTarget;
    try {
      driver = await this.targets.open(target);
    } catch (err) {
      return this.finish(run, RunState.Failed, messageOf(err));
    }
    const settings = await this.settings();
    const ctx: RunContext = {
      run,
      target,
      driver,
      throttle: new Throttle(settings.bandwidthMBps ? settings.bandwidthMBps * 1_000_000 : null),
      policies: await this.db.query(`SELECT file_class, project_type, lock_mode, lock_days FROM retention_policies`),
      claimant: `${hostname()}:${process.pid}:${run.id}`,
      sliceEnds: Date.now() + SLICE_MS,
      targetFailures: 0,
      requeued: new Set(),
      partBuffers: new BufferPool(PART_SIZE, LARGE_SLOTS * (PART_CONCURRENCY + 1)),
    };

    try {
      await this.abortStaleUploads(ctx);
      const outcome = await this.uploadPending(ctx);
      if (outcome === 'paused') {
        const at = run.windowEnd ? run.windowEnd.toISOString() : 'the window end';
        await repo.update(run.id, {
          state: RunState.Paused,
          message: `paused at the window end (${at}); resumes with the next nightly run`,
        });
        return { run: run.id, state: RunState.Paused };
      }
      if (outcome === 'continue') {
        await this.queue.send(JobName.BackupRun, { targetId: target.id, runId: run.id } satisfies RunJobData);
        return { run: run.id, state: RunState.Running, continued: true };
      }
      if (outcome === 'target-down') throw ctx.lastTargetError;
      await this.writeCardManifests(ctx);
      if (run.trigger === RunTrigger.Nightly || run.trigger === RunTrigger.Manual || run.trigger === RunTrigger.Schedule)
        await this.exportCatalog(ctx);
      const fresh = await repo.findOneByOrFail({ id: run.id });
      return this.finish(
        fresh,
        RunState.Completed,
        `${fresh.files} file(s) uploaded, ${fresh.filesSkipped} already there, ${fresh.errorCount} error(s)`,
      );
    } catch (err) {
      const limit = JOB_DEFINITIONS[JobName.BackupRun].retryLimit;
      const permanent = isPermanent(err) || (err instanceof AppError && err.code === ErrorCode.TargetCredentialsUnavailable);
      if (permanent || retryCount >= limit) {
        await this.recordError(run.id, { message: `run: ${messageOf(err)}` });
        return this.finish(run, RunState.Failed, messageOf(err));
      }
      await repo.update(run.id, { message: `target unavailable, retrying: ${messageOf(err)}` });
      throw err; // pg-boss retries the slice with backoff; the run stays "running"
    }
  }

  private async finish(run: BackupRunEntity, state: RunState, message: string) {
    await this.db.getRepository(BackupRunEntity).update(run.id, { state, finishedAt: new Date(), message });
    if (state === RunState.Failed) this.log.warn(`backup run ${run.id} failed: ${message}`);
    return { run: run.id, state, message };
  }

  /**
   * Uploads until nothing is pending ('done'), the window closes, the slice ends, or the target is
   * down. One queue, fed a batch at a time from the catalog; WORKERS files in flight, of which at
   * most LARGE_SLOTS multipart files (each with PART_CONCURRENCY parts): memory stays under
   * LARGE_SLOTS × (PART_CONCURRENCY + 1) × PART_SIZE for the parts; small files are streamed.
   */
  private async uploadPending(ctx: RunContext): Promise<'done' | 'paused' | 'continue' | 'target-down'> {
    const queue: PendingFile[] = [];
    let afterId = '0';
    let passes = 0;
    let exhausted = false;
    let largeActive = 0;
    let outcome: 'paused' | 'continue' | 'target-down' | null = null;
    let wake: () => void = () => undefined;
    let progress = new Promise<void>((r) => (wake = r));
    const signal = () => {
      const w = wake;
      progress = new Promise<void>((r) => (wake = r));
      w();
    };
    let refilling: Promise<void> | null = null;
    const refill = () =>
      (refilling ??= (async () => {
        const batch = await this.pendingBatch(ctx, afterId);
        if (batch.length) {
          afterId = batch[batch.length - 1].id;
          queue.push(...batch);
        } else if (ctx.requeued.size > 0 && passes < 3) {
          // Files put back after a transient failure get more passes before the run ends.
          passes++;
          afterId = '0';
        } else exhausted = true;
      })().finally(() => {
        refilling = null;
        signal();
      }));
    const stop = (): boolean => {
      if (outcome) return true;
      if (ctx.run.windowEnd && Date.now() >= ctx.run.windowEnd.getTime()) outcome = 'paused';
      else if (this.stopping || Date.now() >= ctx.sliceEnds) outcome = 'continue';
      else if (ctx.targetFailures >= TARGET_FAILURES_BEFORE_STOP) outcome = 'target-down';
      return outcome !== null;
    };
    const worker = async () => {
      for (;;) {
        if (stop()) return;
        if (queue.length < BATCH && !exhausted) void refill();
        const i = queue.findIndex((f) => Number(f.size) < MULTIPART_THRESHOLD || largeActive < LARGE_SLOTS);
        if (i < 0) {
          if (exhausted && !queue.length) return;
          await progress;
          continue;
        }
        const [f] = queue.splice(i, 1);
        const large = Number(f.size) >= MULTIPART_THRESHOLD;
        if (large) largeActive++;
        try {
          await this.backupFile(ctx, f);
        } finally {
          if (large) largeActive--;
          signal();
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    // A run is done only when no file waits for the target to come back; else the slice is retried with backoff.
    if (!outcome && ctx.requeued.size > 0) return 'target-down';
    return outcome ?? 'done';
  }

  /** The next files (by id) verified locally, not on this target and not in flight. */
  private pendingBatch(ctx: RunContext, afterId: string): Promise<PendingFile[]> {
    return this.db.query(
      `SELECT a.id::text, a.sha256, a.xxh64, a.size::text, a.file_class, a.relative_path, a.card_id, p.type AS project_type, p.legal_hold
         FROM assets a JOIN projects p ON p.id = a.project_id
        WHERE a.id > $2::bigint AND a.duplicate_of_asset_id IS NULL AND a.sha256 IS NOT NULL
          AND a.protection IN ('verified','offsite','immutable','drilled')
          AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.asset_id = a.id AND c.target_id = $1
                            AND (c.state IN ('uploaded','immutable')
                                 OR c.claimed_until > now()
                                 OR (c.state = 'failed' AND c.updated_at >= $3)))
        ORDER BY a.id LIMIT ${BATCH}`,
      [ctx.target.id, afterId, ctx.run.startedAt ?? new Date()],
    );
  }

  /**
   * Multipart uploads on the target that no catalog row resumes (a crash between CreateMultipartUpload
   * and persisting its id) and older than a day are aborted, so their parts stop costing storage.
   */
  private async abortStaleUploads(ctx: RunContext): Promise<void> {
    const rows: { upload_id: string }[] = await this.db.query(`SELECT upload_id FROM offsite_multipart WHERE target_id = $1`, [
      ctx.target.id,
    ]);
    try {
      const aborted = await abortStaleMultipartUploads(ctx.driver, 'content/', {
        olderThan: new Date(Date.now() - this.staleMultipartMs),
        keep: new Set(rows.map((r) => r.upload_id)),
      });
      if (aborted.length) this.log.log(`off-site ${ctx.target.name}: aborted ${aborted.length} stale multipart upload(s)`);
    } catch (err) {
      if (isTargetLevel(err)) throw err;
      this.log.warn(`off-site ${ctx.target.name}: listing stale multipart uploads: ${messageOf(err)}`);
    }
  }

  /** Claims a file for this run; false when another worker holds it or it is already there. */
  private async claim(ctx: RunContext, assetId: string): Promise<string | null> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO copies (asset_id, target_id, state, claimed_by, claimed_until)
       SELECT $1::bigint, $2::uuid, 'uploading', $3, now() + interval '${CLAIM_MINUTES} minutes'
        WHERE NOT EXISTS (SELECT 1 FROM copies WHERE asset_id = $1::bigint AND target_id = $2::uuid AND state IN ('uploaded','immutable'))
       ON CONFLICT (asset_id, target_id, (coalesce(version_id, ''))) WHERE target_id IS NOT NULL
       DO UPDATE SET state = 'uploading', claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until, error = NULL, updated_at = now()
        WHERE copies.state IN ('uploading','failed','pending')
          AND (copies.claimed_until IS NULL OR copies.claimed_until < now())
       RETURNING id::text`,
      [assetId, ctx.target.id, ctx.claimant],
    );
    return rows[0]?.id ?? null;
  }

  private lockOf(ctx: RunContext, f: Pick<PendingFile, 'file_class' | 'project_type'>): Retention | undefined {
    if (!ctx.target.immutable) return undefined;
    const l = lockFor(ctx.policies, f.file_class, f.project_type, ctx.target.lockMode as LockMode);
    return { mode: l.mode, retainUntil: l.retainUntil };
  }

  private async backupFile(ctx: RunContext, f: PendingFile): Promise<void> {
    const copyId = await this.claim(ctx, f.id);
    if (!copyId) return;
    const key = contentKey(f.sha256);
    const size = Number(f.size);
    const lock = this.lockOf(ctx, f);
    try {
      // The same content is on this target already (another project, a re-shoot of the same file): record it, extend its lock.
      const same: { version_id: string }[] = await this.db.query(
        `SELECT c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id
          WHERE c.target_id = $1 AND a.sha256 = $2 AND c.state IN ('uploaded','immutable') AND c.version_id IS NOT NULL
          ORDER BY c.id DESC LIMIT 1`,
        [ctx.target.id, f.sha256],
      );
      let versionId: string;
      let retention: Retention | null = null;
      let uploaded = false;
      if (same.length) {
        versionId = same[0].version_id;
        const info = await ctx.driver.head(key, versionId);
        if (info.size !== size || info.sha256 !== f.sha256)
          throw new Error(`${key} (${versionId}) on the target reports ${info.size} bytes, sha256 ${info.sha256 ?? 'none'}`);
        if (lock) retention = (await ensureRetention(ctx.driver, key, versionId, lock)).retention;
        if (f.legal_hold && !(await ctx.driver.getLegalHold(key, versionId))) await ctx.driver.putLegalHold(key, versionId, true);
      } else {
        const candidates = await this.localPaths(f.id);
        // Only a multipart upload can be resumed: small files skip the lookup.
        const prior: { upload_id: string }[] =
          size >= MULTIPART_THRESHOLD
            ? await this.db.query(`SELECT upload_id FROM offsite_multipart WHERE target_id = $1 AND object_key = $2 AND sha256 = $3`, [
                ctx.target.id,
                key,
                f.sha256,
              ])
            : [];
        const send = (path: string) =>
          uploadFile(
            ctx.driver,
            {
              key,
              path,
              size,
              sha256: f.sha256,
              xxh64: f.xxh64 ?? undefined,
              lock,
              legalHold: f.legal_hold,
              contentType: 'application/octet-stream',
            },
            {
              multipartThreshold: MULTIPART_THRESHOLD,
              partSize: PART_SIZE,
              concurrency: PART_CONCURRENCY,
              resume: prior.length ? { uploadId: prior[0].upload_id } : undefined,
              beforeSend: (bytes) => ctx.throttle.take(bytes),
              partBuffers: ctx.partBuffers,
              onMultipartCreated: async (uploadId) => {
                await this.db.query(
                  `INSERT INTO offsite_multipart (target_id, object_key, upload_id, sha256, size) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (target_id, object_key) DO UPDATE SET upload_id = EXCLUDED.upload_id, sha256 = EXCLUDED.sha256,
                   size = EXCLUDED.size, parts_done = 0, updated_at = now()`,
                  [ctx.target.id, key, uploadId, f.sha256, size],
                );
              },
              onPartUploaded: async () => {
                await this.db.query(
                  `UPDATE offsite_multipart SET parts_done = parts_done + 1, updated_at = now() WHERE target_id = $1 AND object_key = $2`,
                  [ctx.target.id, key],
                );
                await this.db.query(`UPDATE copies SET claimed_until = now() + interval '${CLAIM_MINUTES} minutes' WHERE id = $1`, [
                  copyId,
                ]);
              },
            },
          );
        // A local copy that does not match is reported (marked, healed) and the other volume's copy is read instead.
        let outcome: Awaited<ReturnType<typeof send>> | undefined;
        for (const c of candidates) {
          try {
            outcome = await send(c.path);
            break;
          } catch (err) {
            if (!(err instanceof LocalCopyDamaged)) throw err;
            await this.damage.report({
              assetId: f.id,
              copyId: c.copyId,
              kind: err.kind === 'short' ? DamageKind.Short : err.kind === 'long' ? DamageKind.Long : DamageKind.Mismatch,
              foundBy: FindingSource.Backup,
              detail: err.message,
            });
          }
        }
        if (!outcome)
          throw new LocalCopyDamaged('', 'mismatch', 'no good local copy to send: the damage is reported and the file is healed first');
        await this.db.query(`DELETE FROM offsite_multipart WHERE target_id = $1 AND object_key = $2`, [ctx.target.id, key]);
        if (outcome.partsReused)
          this.log.log(`${f.relative_path}: multipart upload resumed, ${outcome.partsReused} part(s) reused, ${outcome.partsSent} sent`);
        versionId = outcome.versionId;
        retention = outcome.retention;
        uploaded = true;
      }
      const immutable = Boolean(lock && retention && ctx.driver.capabilities.objectLock === 'server');
      await this.db.query(
        `UPDATE copies SET state = $2, version_id = $3, location = $4, observed_sha256 = $5, verify_method = 'target_checksum',
                verified_at = now(), lock_mode = $6, retain_until = $7, lock_checked_at = $8, claimed_by = NULL, claimed_until = NULL,
                error = NULL, updated_at = now()
          WHERE id = $1`,
        [
          copyId,
          immutable ? 'immutable' : 'uploaded',
          versionId,
          key,
          f.sha256,
          retention?.mode ?? null,
          retention?.retainUntil ?? null,
          retention ? new Date() : null,
        ],
      );
      if (TargetsService.isOffsite(ctx.target)) {
        const raiseFrom = immutable ? ['verified', 'offsite'] : ['verified'];
        await this.db.query(
          `UPDATE assets SET protection = $2, protection_reason = NULL, updated_at = now()
            WHERE (id = $1::bigint OR duplicate_of_asset_id = $1::bigint) AND protection = ANY($3)`,
          [f.id, immutable ? 'immutable' : 'offsite', raiseFrom],
        );
      }
      await this.db.query(
        `UPDATE backup_runs SET ${uploaded ? 'files = files + 1, bytes = bytes + $2' : 'files_skipped = files_skipped + 1'}, updated_at = now() WHERE id = $1`,
        uploaded ? [ctx.run.id, size] : [ctx.run.id],
      );
      ctx.targetFailures = 0;
      ctx.requeued.delete(f.id);
    } catch (err) {
      const message = messageOf(err);
      if (err instanceof LocalCopyDamaged || (err instanceof Error && err.message.startsWith(NO_LOCAL_COPY))) {
        // A local fault, not the target's: the file waits (at risk, being healed) and the run records no target error.
        await this.db.query(
          `UPDATE copies SET state = 'pending', error = $2, claimed_by = NULL, claimed_until = NULL, updated_at = now() WHERE id = $1`,
          [copyId, message.slice(0, 2000)],
        );
        this.log.warn(`off-site ${ctx.target.name}: ${f.relative_path}: local copy: ${message}`);
        return;
      }
      if (isTargetLevel(err) && isTargetError(err) && err.kind === 'transient') {
        // The target is away (network, gateway restart): the file waits for the run's next try, not for tomorrow.
        await this.db.query(
          `UPDATE copies SET state = 'pending', error = $2, claimed_by = NULL, claimed_until = NULL, updated_at = now() WHERE id = $1`,
          [copyId, message.slice(0, 2000)],
        );
        ctx.requeued.add(f.id);
      } else {
        await this.db.query(
          `UPDATE copies SET state = 'failed', error = $2, claimed_by = NULL, claimed_until = NULL, updated_at = now() WHERE id = $1`,
          [copyId, message.slice(0, 2000)],
        );
        await this.recordError(ctx.run.id, { path: f.relative_path, key, message });
      }
      if (isTargetLevel(err)) {
        ctx.targetFailures++;
        ctx.lastTargetError = err;
      }
      this.log.warn(`off-site ${ctx.target.name}: ${f.relative_path}: ${message}`);
    }
  }

  /** The verified local copies to read, best first: the primary's, then the mirror's, on volumes that are online. */
  private async localPaths(assetId: string): Promise<{ path: string; copyId: string }[]> {
    const rows: { id: string; role: 'primary' | 'mirror'; root_path: string; location: string }[] = await this.db.query(
      `SELECT c.id::text, v.role, v.root_path, c.location FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
        WHERE c.asset_id = $1 AND c.state = 'verified' AND v.state = 'online' ORDER BY v.role = 'primary' DESC`,
      [assetId],
    );
    const out: { path: string; copyId: string }[] = [];
    for (const r of rows) {
      const path = new VolumeFiles(r.role, r.root_path).finalPath(r.location);
      if (await stat(path).catch(() => null)) out.push({ path, copyId: r.id });
      else {
        // A verified copy that is not there: reported like any other damage.
        await this.damage.report({
          assetId,
          copyId: r.id,
          kind: DamageKind.Missing,
          foundBy: FindingSource.Backup,
          detail: `not on the ${r.role} volume`,
        });
      }
    }
    if (!out.length) throw new Error(`${NO_LOCAL_COPY} (volumes offline, or the copies are damaged and being healed)`);
    return out;
  }

  private async recordError(runId: string, e: BackupRunError): Promise<void> {
    await this.db.query(
      `UPDATE backup_runs SET error_count = error_count + 1,
              errors = CASE WHEN jsonb_array_length(errors) < ${MAX_STORED_ERRORS} THEN errors || $2::jsonb ELSE errors END,
              updated_at = now()
        WHERE id = $1`,
      [runId, JSON.stringify([{ ...e, message: e.message.slice(0, 1000) }])],
    );
  }

  // ---- manifests, ASC MHL, catalog ----

  /** Cards whose every file is on the target and whose manifest is missing or older than their copies. */
  private async writeCardManifests(ctx: RunContext): Promise<void> {
    const cards: { id: string }[] = await this.db.query(
      `SELECT cd.id FROM cards cd
        WHERE cd.state = 'verified'
          AND EXISTS (SELECT 1 FROM assets a WHERE a.card_id = cd.id)
          AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.card_id = cd.id AND NOT EXISTS (
                SELECT 1 FROM copies c WHERE c.asset_id = coalesce(a.duplicate_of_asset_id, a.id) AND c.target_id = $1 AND c.state IN ('uploaded','immutable')))
          AND coalesce((SELECT max(o.created_at) FROM offsite_objects o WHERE o.card_id = cd.id AND o.target_id = $1 AND o.kind = 'manifest'), '-infinity')
              < greatest(cd.updated_at, (SELECT max(c.updated_at) FROM assets a JOIN copies c ON c.asset_id = coalesce(a.duplicate_of_asset_id, a.id) AND c.target_id = $1 WHERE a.card_id = cd.id))
        ORDER BY cd.created_at`,
      [ctx.target.id],
    );
    for (const c of cards) {
      try {
        await this.writeCardManifest(ctx, c.id);
      } catch (err) {
        await this.recordError(ctx.run.id, { message: `manifest of card ${c.id}: ${messageOf(err)}` });
        if (isTargetLevel(err)) throw err;
      }
    }
  }

  private async writeCardManifest(ctx: RunContext, cardId: string): Promise<void> {
    const [card] = await this.db.query(
      `SELECT cd.id, cd.label, cd.created_at, cd.verified_at, cd.camera_make, cd.camera_model, cd.camera_serial, cd.redundant_of_card_id,
              p.id AS project_id, p.slug, p.name AS project_name, p.type AS project_type, to_char(p.shoot_date, 'YYYY-MM-DD') AS shoot_date, p.legal_hold
         FROM cards cd JOIN projects p ON p.id = cd.project_id WHERE cd.id = $1`,
      [cardId],
    );
    const files: {
      relative_path: string;
      size: string;
      sha256: string;
      xxh64: string | null;
      capture_time: Date | null;
      file_class: FileClass;
      version: number;
      duplicate: boolean;
      version_id: string;
      lock_mode: string | null;
      retain_until: Date | null;
    }[] = await this.db.query(
      `SELECT a.relative_path, a.size::text, coalesce(a.sha256, o.sha256) AS sha256, coalesce(a.xxh64, o.xxh64) AS xxh64, a.capture_time,
              a.file_class, a.version, a.duplicate_of_asset_id IS NOT NULL AS duplicate, c.version_id, c.lock_mode, c.retain_until
         FROM assets a LEFT JOIN assets o ON o.id = a.duplicate_of_asset_id
         JOIN LATERAL (SELECT * FROM copies c WHERE c.asset_id = coalesce(a.duplicate_of_asset_id, a.id) AND c.target_id = $2
                          AND c.state IN ('uploaded','immutable') ORDER BY c.id DESC LIMIT 1) c ON true
        WHERE a.card_id = $1 ORDER BY a.relative_path_nfc, a.version`,
      [cardId, ctx.target.id],
    );
    const year = projectYear({ shootDate: card.shoot_date } as never, { createdAt: card.created_at } as never);
    // Everything about the card is locked as long as its longest-kept file.
    const until = files.reduce<Date | null>((m, f) => (f.retain_until && (!m || f.retain_until > m) ? f.retain_until : m), null);
    const lock: Retention | undefined =
      ctx.target.immutable && until
        ? { mode: (files.find((f) => f.lock_mode)?.lock_mode as LockMode) ?? ctx.target.lockMode, retainUntil: until }
        : undefined;

    // The card's ASC MHL history, as on the primary (else mirror) volume.
    const mhlKeys: string[] = [];
    const folder = await this.mhlFolder(cardFolder(year, card.slug, card.label));
    if (folder) {
      for (const name of (await readdir(folder)).sort()) {
        const bytes = await readFile(join(folder, name));
        const key = mhlKey(year, card.slug, card.label, name);
        mhlKeys.push(key);
        await this.putObject(ctx, { kind: 'mhl', cardId, key, bytes, lock, contentType: 'application/xml', onlyIfChanged: true });
      }
    }
    const manifest = {
      format: 'studiovault.card-manifest',
      formatVersion: 1,
      exportedAt: new Date().toISOString(),
      project: { id: card.project_id, slug: card.slug, name: card.project_name, type: card.project_type, shootDate: card.shoot_date },
      card: {
        id: card.id,
        label: card.label,
        year,
        folder: cardFolder(year, card.slug, card.label),
        camera: { make: card.camera_make, model: card.camera_model, serial: card.camera_serial },
        verifiedAt: card.verified_at,
        redundantOfCardId: card.redundant_of_card_id,
      },
      files: files.map((f) => ({
        path: f.relative_path,
        version: f.version,
        size: Number(f.size),
        sha256: f.sha256,
        xxh64: f.xxh64,
        captureTime: f.capture_time,
        retentionClass: f.file_class,
        object: contentKey(f.sha256),
        versionId: f.version_id,
        lock: f.retain_until ? { mode: f.lock_mode, retainUntil: f.retain_until } : null,
        redundantSource: f.duplicate || undefined,
      })),
      ascmhl: mhlKeys,
    };
    await this.putObject(ctx, {
      kind: 'manifest',
      cardId,
      key: manifestKey(year, card.slug, card.label),
      bytes: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      lock,
      contentType: 'application/json',
      onlyIfChanged: false,
    });
  }

  private async mhlFolder(cardPath: string): Promise<string | null> {
    const vols: { role: 'primary' | 'mirror'; root_path: string }[] = await this.db.query(
      `SELECT role, root_path FROM storage_volumes WHERE state = 'online' ORDER BY role = 'primary' DESC`,
    );
    for (const v of vols) {
      const dir = join(new VolumeFiles(v.role, v.root_path).finalPath(cardPath), 'ascmhl');
      if (await stat(dir).catch(() => null)) return dir;
    }
    return null;
  }

  /** Puts a small object (manifest, MHL file) with its lock read back, and records it. */
  private async putObject(
    ctx: RunContext,
    o: {
      kind: 'manifest' | 'mhl' | 'catalog';
      cardId: string | null;
      key: string;
      bytes: Buffer;
      lock?: Retention;
      contentType: string;
      onlyIfChanged: boolean;
    },
  ): Promise<void> {
    const sha256 = createHash('sha256').update(o.bytes).digest('hex');
    if (o.onlyIfChanged) {
      const [{ n }] = await this.db.query(
        `SELECT count(*)::int AS n FROM offsite_objects WHERE target_id = $1 AND object_key = $2 AND sha256 = $3`,
        [ctx.target.id, o.key, sha256],
      );
      if (n > 0) return;
    }
    await ctx.throttle.take(o.bytes.length);
    const put = await ctx.driver.put(o.key, o.bytes, {
      size: o.bytes.length,
      sha256,
      contentMd5: createHash('md5').update(o.bytes).digest('base64'),
      lock: o.lock,
      contentType: o.contentType,
    });
    const info = await ctx.driver.head(o.key, put.versionId);
    if (info.sha256 !== sha256 || info.size !== o.bytes.length) throw new Error(`${o.key}: the target reports another size or SHA-256`);
    const retention = o.lock ? (await ensureRetention(ctx.driver, o.key, put.versionId, o.lock)).retention : null;
    await this.db.query(
      `INSERT INTO offsite_objects (target_id, kind, card_id, object_key, version_id, sha256, size, lock_mode, retain_until, lock_checked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [
        ctx.target.id,
        o.kind,
        o.cardId,
        o.key,
        put.versionId,
        sha256,
        o.bytes.length,
        retention?.mode ?? null,
        retention?.retainUntil ?? null,
        retention ? new Date() : null,
      ],
    );
  }

  /**
   * The catalog export: projects, cards and every file with its hashes and object key, gzipped
   * JSON lines, so the studio's catalog can be rebuilt from the bucket alone. One version per
   * night, locked as long as the longest policy. Plus the bucket's README once.
   */
  private async exportCatalog(ctx: RunContext): Promise<void> {
    const days = Math.max(...Object.values(FileClass).map((c) => lockFor(ctx.policies, c, null, ctx.target.lockMode as LockMode).days));
    const lock = ctx.target.immutable
      ? { mode: ctx.target.lockMode as LockMode, retainUntil: new Date(Date.now() + days * 86_400_000) }
      : undefined;
    try {
      await ctx.driver.head(README_KEY);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.putObject(ctx, {
        kind: 'catalog',
        cardId: null,
        key: README_KEY,
        bytes: Buffer.from(TARGET_README),
        lock,
        contentType: 'text/plain',
        onlyIfChanged: true,
      });
    }
    const dir = await mkdtemp(join(tmpdir(), 'sv-catalog-'));
    const file = join(dir, 'catalog.jsonl.gz');
    try {
      const db = this.db;
      async function* lines(): AsyncGenerator<string> {
        yield `${JSON.stringify({ format: 'studiovault.catalog-export', formatVersion: 1, exportedAt: new Date().toISOString() })}\n`;
        for (const p of await db.query(
          `SELECT id, slug, name, client, shoot_date, type, status, legal_hold, created_at FROM projects ORDER BY created_at`,
        ))
          yield `${JSON.stringify({ type: 'project', ...p })}\n`;
        for (const c of await db.query(
          `SELECT id, project_id, label, state, camera_make, camera_model, camera_serial, file_count, total_bytes, redundant_of_card_id, created_at, verified_at FROM cards ORDER BY created_at`,
        ))
          yield `${JSON.stringify({ type: 'card', ...c })}\n`;
        let after = '0';
        for (;;) {
          const rows: { id: string; sha256: string | null }[] = await db.query(
            `SELECT a.id::text, a.card_id, a.relative_path, a.version, a.size::text, a.file_class, a.capture_time, a.xxh64, a.sha256,
                    a.protection, a.duplicate_of_asset_id::text
               FROM assets a WHERE a.id > $1::bigint ORDER BY a.id LIMIT 5000`,
            [after],
          );
          if (!rows.length) break;
          after = rows[rows.length - 1].id;
          for (const r of rows) yield `${JSON.stringify({ type: 'file', ...r, object: r.sha256 ? contentKey(r.sha256) : null })}\n`;
        }
      }
      await pipeline(lines, createGzip(), createWriteStream(file));
      const bytes = await readFile(file);
      await this.putObject(ctx, {
        kind: 'catalog',
        cardId: null,
        key: CATALOG_EXPORT_KEY,
        bytes,
        lock,
        contentType: 'application/gzip',
        onlyIfChanged: false,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  // ---- reports ----

  async status(): Promise<BackupStatus> {
    const rows: { level: string; files: number; bytes: string }[] = await this.db.query(
      `SELECT CASE WHEN protection IN ('immutable','drilled') THEN 'immutable' WHEN protection = 'offsite' THEN 'offsite'
                   WHEN protection = 'verified' THEN 'pending' ELSE 'other' END AS level,
              count(*)::int AS files, coalesce(sum(size), 0)::text AS bytes
         FROM assets WHERE duplicate_of_asset_id IS NULL GROUP BY 1`,
    );
    const of = (l: string) => {
      const r = rows.find((x) => x.level === l);
      return { files: r?.files ?? 0, bytes: Number(r?.bytes ?? 0) };
    };
    return { pending: of('pending'), offsite: of('offsite'), immutable: of('immutable') };
  }

  listRuns(filter: { targetId?: string; limit: number }): Promise<BackupRunEntity[]> {
    return this.db.getRepository(BackupRunEntity).find({
      where: filter.targetId ? { targetId: filter.targetId } : {},
      order: { createdAt: 'DESC' },
      take: filter.limit,
    });
  }

  async getRun(id: string): Promise<BackupRunEntity> {
    const run = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.getRepository(BackupRunEntity).findOne({ where: { id } }) : null;
    if (!run) throw new AppError(ErrorCode.NotFound, `No backup run with id ${id}`);
    return run;
  }

  async lastRuns(): Promise<Map<string, BackupRunEntity>> {
    const rows: BackupRunEntity[] = await this.db
      .getRepository(BackupRunEntity)
      .createQueryBuilder('r')
      .distinctOn(['r.targetId'])
      .orderBy('r.targetId')
      .addOrderBy('r.createdAt', 'DESC')
      .getMany();
    return new Map(rows.map((r) => [r.targetId, r]));
  }
}
