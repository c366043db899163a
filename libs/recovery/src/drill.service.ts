import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { applyJobSchedule, scheduleProblems, serverTimeZone, TargetsService } from '@studiovault/backup';
import { AppError, fmtBytes } from '@studiovault/common';
import { SettingEntity } from '@studiovault/catalog';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { isNotFound, isTargetError, retentionInForce, type OffsiteTarget } from '@studiovault/offsite';
import { openLikeAPerson, openableKind, type OpenCheck } from './file-checks';
import { RestoreWriter, type WriteOutcome } from './restore-writer';
import { restorePath } from './restore.service';

const SETTINGS_KEY = 'drill.settings';

export interface DrillSettings {
  /** Cron (5 fields) in `timezone`; default: 03:00 on the 1st of every month. */
  schedule: string;
  timezone: string;
  /** Older files restored at random besides the latest project. */
  sampleSize: number;
  /** Files opened like a person would (RAW previews, JPEG decodes, video headers). */
  openSize: number;
}

export const DEFAULT_DRILL_SETTINGS: DrillSettings = { schedule: '0 3 1 * *', timezone: 'UTC', sampleSize: 20, openSize: 10 };

/**
 * What a drill found, by what it means for the studio (not only which check saw it):
 * - `damaged_copy`: the copy's bytes differ from the hash taken from the card: the file is at risk;
 *   repair it from a good copy.
 * - `missing_copy`: the copy is gone from the target: the file is at risk until it is uploaded again.
 * - `unreadable_copy`: the copy could not be read for another reason (the target answered with an error).
 * - `unreadable_original`: the bytes restored match the card's hash, but the file cannot be opened as an
 *   image or video: the original itself was like that. Not a copy problem: levels and verdicts stay.
 * - `lock_not_in_force`, `delete_not_refused`, `target_unreachable`: the target's promises.
 */
export type DrillFindingKind =
  | 'damaged_copy'
  | 'missing_copy'
  | 'unreadable_copy'
  | 'unreadable_original'
  | 'lock_not_in_force'
  | 'delete_not_refused'
  | 'target_unreachable';

export interface DrillError {
  path?: string;
  check: 'target' | 'restore' | 'hash' | 'open' | 'lock' | 'delete-refused';
  kind: DrillFindingKind;
  message: string;
  /** What a person does about it. */
  advice: string;
}

/** The advice for each kind of finding, in a studio's words (the CLI and the portal show it as given). */
export const DRILL_ADVICE: Record<DrillFindingKind, string> = {
  damaged_copy:
    'The off-site copy differs from the hash taken from the card: the file is at risk. Repair it from a good copy (a verified local copy, or the card while it is not formatted); the damaged copy no longer counts as a copy.',
  missing_copy:
    'The off-site copy is gone from the target: the file is at risk until it is copied there again from a good copy (a verified local copy); the missing copy no longer counts as a copy.',
  unreadable_copy: 'The target could not give the copy back: check the target (studiovault targets), then run the drill again.',
  unreadable_original:
    'Not a copy problem: the restored bytes match the hash taken from the card, so the backup holds exactly what was ingested. The original itself cannot be opened as an image or video; its protection and its card are unchanged. Check the file in the camera maker’s software; ingesting it again gives the same bytes.',
  lock_not_in_force:
    'The off-site copy is no longer locked as the retention policy asks: the file is at risk. Check the bucket’s Object Lock settings.',
  delete_not_refused:
    'The backup key can delete locked versions: the bucket does not enforce Object Lock. Fix the bucket and the key’s rights.',
  target_unreachable: 'The off-site target could not be reached: check it (studiovault targets), then run the drill again.',
};

function finding(kind: DrillFindingKind, check: DrillError['check'], message: string, path?: string): DrillError {
  return { ...(path !== undefined ? { path } : {}), check, kind, message, advice: DRILL_ADVICE[kind] };
}

export interface DrillReport {
  target: { id: string; name: string } | null;
  project: { slug: string; name: string; files: number } | null;
  sampled: number;
  files: number;
  bytes: number;
  restoreSeconds: number;
  durationSeconds: number;
  opened: OpenCheck[];
  locksChecked: number;
  deleteRefused: boolean | null;
  errors: DrillError[];
  /** Findings that are not copy problems (originals that cannot be opened): the drill still passes. */
  findings: DrillError[];
  verdict: string;
}

interface DrillFile {
  asset_id: string;
  copy_id: string;
  card_label: string;
  relative_path: string;
  version: number;
  size: string;
  sha256: string;
  key: string;
  version_id: string;
  retain_until: Date | null;
  lock_mode: string | null;
  slug: string;
}

/**
 * The monthly restore drill, the "0" of 3-2-1-1-0: restores the most recently completed project
 * in full and a random sample of older files from the off-site target into a temporary folder,
 * verifies every hash against the catalog, opens a sample as a person would, confirms every
 * lock is in force and that the writer credential cannot delete a locked version, records a
 * report with thumbnails, marks the files "drilled" (or "at risk"), cleans up, and raises an
 * alert on any error.
 */
@Injectable()
export class DrillService implements OnApplicationBootstrap {
  private readonly log = new Logger(DrillService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly queue: JobQueue,
    private readonly targets: TargetsService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.onStarted(async () => {
      try {
        const s = await this.settings();
        await this.queue.schedule(JobName.DrillRun, s.schedule, s.timezone);
      } catch (err) {
        this.log.error(`drill schedule: ${(err as Error).message}`);
      }
    });
  }

  async settings(): Promise<DrillSettings> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SETTINGS_KEY } });
    return { ...DEFAULT_DRILL_SETTINGS, timezone: serverTimeZone(), ...((row?.value as Partial<DrillSettings>) ?? {}) };
  }

  async setSettings(next: DrillSettings): Promise<DrillSettings> {
    const problems = scheduleProblems(next.schedule, next.timezone, '0 3 1 * *');
    if (!(Number.isInteger(next.sampleSize) && next.sampleSize >= 0 && next.sampleSize <= 10_000)) problems.push('sampleSize: 0 to 10000');
    if (!(Number.isInteger(next.openSize) && next.openSize >= 0 && next.openSize <= 1000)) problems.push('openSize: 0 to 1000');
    if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'Invalid drill settings', problems);
    const value = { ...next, schedule: next.schedule.trim() };
    await applyJobSchedule(this.queue, JobName.DrillRun, value.schedule, value.timezone, 'drill');
    await this.db.getRepository(SettingEntity).upsert({ key: SETTINGS_KEY, value }, ['key']);
    await this.audit.record('settings.drill', undefined, { ...value });
    return value;
  }

  /** "Run now": a drill row, run by the worker. */
  async start(trigger: 'manual' | 'schedule' = 'manual'): Promise<string> {
    const [{ id }] = await this.db.query(`INSERT INTO restore_drills (trigger, state) VALUES ($1, 'queued') RETURNING id`, [trigger]);
    await this.queue.send(JobName.DrillRun, { drillId: id });
    return id;
  }

  list(limit: number) {
    return this.db.query(
      `SELECT d.*, t.name AS target_name FROM restore_drills d LEFT JOIN offsite_targets t ON t.id = d.target_id ORDER BY d.created_at DESC LIMIT $1`,
      [limit],
    );
  }

  async get(id: string) {
    const [row] = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.db.query(
          `SELECT d.*, t.name AS target_name FROM restore_drills d LEFT JOIN offsite_targets t ON t.id = d.target_id WHERE d.id = $1`,
          [id],
        )
      : [];
    if (!row) throw new AppError(ErrorCode.NotFound, `No restore drill with id ${id}`);
    return row;
  }

  @OnJob(JobName.DrillRun)
  async run(data: { drillId?: string }): Promise<unknown> {
    const id =
      data.drillId ?? (await this.db.query(`INSERT INTO restore_drills (trigger, state) VALUES ('schedule', 'queued') RETURNING id`))[0].id;
    const started = Date.now();
    await this.db.query(`UPDATE restore_drills SET state = 'running', started_at = now(), updated_at = now() WHERE id = $1`, [id]);
    const report: DrillReport = {
      target: null,
      project: null,
      sampled: 0,
      files: 0,
      bytes: 0,
      restoreSeconds: 0,
      durationSeconds: 0,
      opened: [],
      locksChecked: 0,
      deleteRefused: null,
      errors: [],
      findings: [],
      verdict: '',
    };
    const dir = await mkdtemp(join(this.config.dataDir.startsWith('/') ? this.config.dataDir : '/tmp', 'drill-')).catch(() =>
      mkdtemp('/tmp/studiovault-drill-'),
    );
    const passed: string[] = [];
    const failedAssets = new Map<string, { reason: string; copyId: string | null; copyState: 'mismatch' | 'missing' | null }>();
    try {
      await this.drill(id, report, dir, passed, failedAssets);
    } catch (err) {
      report.errors.push(finding('target_unreachable', 'target', (err as Error).message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    report.durationSeconds = Math.round((Date.now() - started) / 100) / 10;
    const ok = report.errors.length === 0 && report.files > 0;
    const originals = report.findings.length
      ? ` ${report.findings.length} original(s) cannot be opened (not a copy problem: the restored bytes match the card's hash): ${report.findings
          .slice(0, 3)
          .map((f) => `${f.path}: ${f.message}`)
          .join('; ')}${report.findings.length > 3 ? '; …' : ''}.`
      : '';
    report.verdict = ok
      ? `Zero errors: ${report.files} file(s), ${fmtBytes(report.bytes)} restored from "${report.target?.name}" and verified in ${report.restoreSeconds} s; ${report.opened.length} opened` +
        (report.locksChecked ? `, ${report.locksChecked} lock(s) in force` : ', no locks on this target') +
        (report.deleteRefused ? ', the backup key cannot delete a locked version.' : '.') +
        originals
      : report.files === 0 && report.errors.length === 0
        ? 'Nothing to drill: no file has an off-site copy yet.'
        : `${report.errors.length} error(s): ${report.errors
            .slice(0, 3)
            .map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`)
            .join('; ')}${report.errors.length > 3 ? '; …' : ''}${originals}`;

    // Levels follow the proof: drilled files rise to "drilled"; a failed file is at risk with the reason.
    // An original that cannot be opened keeps its level (its copies are proven identical to the card).
    if (passed.length)
      await this.db.query(
        `UPDATE assets SET protection = 'drilled', drilled_at = now(), protection_reason = NULL, updated_at = now()
          WHERE (id = ANY($1::bigint[]) OR duplicate_of_asset_id = ANY($1::bigint[])) AND protection IN ('immutable','drilled')`,
        [passed],
      );
    for (const [assetId, { reason, copyId, copyState }] of failedAssets) {
      // A damaged or missing off-site copy no longer counts as a copy (the next check will not trust it).
      if (copyId && copyState)
        await this.db.query(
          `UPDATE copies SET state = $2, error = $3, updated_at = now() WHERE id = $1::bigint AND target_id IS NOT NULL`,
          [copyId, copyState, `restore drill: ${reason}`.slice(0, 1000)],
        );
      await this.db.query(
        `UPDATE assets SET protection = 'at_risk', protection_reason = $2, updated_at = now() WHERE id = $1::bigint OR duplicate_of_asset_id = $1::bigint`,
        [assetId, `restore drill: ${reason}`.slice(0, 500)],
      );
    }
    await this.db.query(
      `UPDATE restore_drills SET state = $2, finished_at = now(), files = $3, bytes = $4, error_count = $5, errors = $6::jsonb,
              report = $7::jsonb, restore_seconds = $8, message = $9, target_id = $10, updated_at = now()
        WHERE id = $1`,
      [
        id,
        ok ? 'passed' : 'failed',
        report.files,
        report.bytes,
        report.errors.length,
        JSON.stringify(report.errors.slice(0, 500)),
        JSON.stringify(report),
        report.restoreSeconds,
        report.verdict,
        report.target?.id ?? null,
      ],
    );
    if (!ok) {
      // The alert: an error in the log (monitoring picks it up), an audit event, and the drill's state on every status page.
      this.log.error(`RESTORE DRILL FAILED: ${report.verdict}`);
      await this.audit.record('drill.failed', { type: 'restore_drill', id }, { errors: report.errors.length, verdict: report.verdict });
    } else {
      this.log.log(`restore drill passed: ${report.verdict}`);
      if (report.findings.length)
        this.log.warn(`restore drill: ${report.findings.length} original(s) cannot be opened (not a copy problem)`);
      await this.audit.record('drill.passed', { type: 'restore_drill', id }, { files: report.files, bytes: report.bytes });
    }
    return { id, state: ok ? 'passed' : 'failed', errors: report.errors.length };
  }

  private async drill(
    id: string,
    report: DrillReport,
    dir: string,
    passed: string[],
    failed: Map<string, { reason: string; copyId: string | null; copyState: 'mismatch' | 'missing' | null }>,
  ): Promise<void> {
    const settings = await this.settings();
    const [t] = await this.db.query(
      `SELECT id, name FROM offsite_targets WHERE enabled ORDER BY (kind = 's3') DESC, immutable DESC, created_at LIMIT 1`,
    );
    if (!t) {
      report.errors.push({
        ...finding('target_unreachable', 'target', 'no off-site target to drill'),
        advice: 'Add an off-site target (studiovault targets add), let a backup run, then run the drill again.',
      });
      return;
    }
    report.target = { id: t.id, name: t.name };
    await this.db.query(`UPDATE restore_drills SET target_id = $2 WHERE id = $1`, [id, t.id]);
    const target = await this.targets.get(t.id);
    const driver = await this.targets.open(target);
    try {
      await driver.head('README.txt').catch((err: unknown) => {
        if (isTargetError(err) && err.kind === 'not-found') return;
        throw new Error(`target "${t.name}" is unreachable: ${(err as Error).message}`);
      });
    } catch (err) {
      report.errors.push(finding('target_unreachable', 'target', (err as Error).message));
      return;
    }

    const select = `SELECT a.id::text AS asset_id, cd.label AS card_label, a.relative_path, a.version, a.size::text, a.sha256,
                           c.id::text AS copy_id, c.location AS key, c.version_id, c.retain_until, c.lock_mode, p.slug
                      FROM assets a JOIN cards cd ON cd.id = a.card_id JOIN projects p ON p.id = a.project_id
                      JOIN LATERAL (SELECT * FROM copies c WHERE c.asset_id = a.id AND c.target_id = $1 AND c.state IN ('uploaded','immutable')
                                     AND c.version_id IS NOT NULL ORDER BY c.id DESC LIMIT 1) c ON true
                     WHERE a.duplicate_of_asset_id IS NULL AND a.sha256 IS NOT NULL`;
    // The most recently completed project: every card verified, every file off-site on this target.
    const [latest] = await this.db.query(
      `SELECT p.id, p.slug, p.name FROM projects p
        WHERE EXISTS (SELECT 1 FROM cards cd WHERE cd.project_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM cards cd WHERE cd.project_id = p.id AND cd.state <> 'verified')
          AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.project_id = p.id AND a.duplicate_of_asset_id IS NULL AND NOT EXISTS (
                SELECT 1 FROM copies c WHERE c.asset_id = a.id AND c.target_id = $1 AND c.state IN ('uploaded','immutable')))
        ORDER BY (SELECT max(cd.verified_at) FROM cards cd WHERE cd.project_id = p.id) DESC NULLS LAST LIMIT 1`,
      [t.id],
    );
    const files: DrillFile[] = latest ? await this.db.query(`${select} AND a.project_id = $2 ORDER BY a.id`, [t.id, latest.id]) : [];
    if (latest) report.project = { slug: latest.slug, name: latest.name, files: files.length };
    const sample: DrillFile[] = await this.db.query(
      `${select} AND a.project_id <> coalesce($2::uuid, '00000000-0000-0000-0000-000000000000') ORDER BY random() LIMIT $3`,
      [t.id, latest?.id ?? null, settings.sampleSize],
    );
    report.sampled = sample.length;
    const all = [...files, ...sample];
    if (!all.length) return;

    // Restore: every byte from the target, hashed as it is written.
    const restoreStart = Date.now();
    const writer = await RestoreWriter.prepare(dir, 0, []);
    const restored = new Map<string, string>(); // asset → path on disk
    for (const f of all) {
      const rel = `${f.slug}/${restorePath({ cardLabel: f.card_label, path: f.relative_path, version: f.version })}`;
      let out: WriteOutcome;
      try {
        out = await writer.write(rel, await driver.get(f.key, f.version_id), { size: Number(f.size), sha256: f.sha256 });
      } catch (err) {
        if (isNotFound(err)) {
          const message = `the off-site copy is missing on "${t.name}": ${(err as Error).message}`;
          report.errors.push(finding('missing_copy', 'restore', message, rel));
          failed.set(f.asset_id, { reason: `missing copy: ${message}`, copyId: f.copy_id, copyState: 'missing' });
        } else {
          const message = `cannot restore from the target: ${(err as Error).message}`;
          report.errors.push(finding('unreadable_copy', 'restore', message, rel));
          failed.set(f.asset_id, { reason: message, copyId: null, copyState: null });
        }
        continue;
      }
      if (!out.ok) {
        // The restore writer refuses bytes that differ from the catalog's size and SHA-256: a damaged copy.
        const damaged = out.error!.startsWith('content does not match');
        const message = damaged ? `the off-site copy on "${t.name}" is damaged: ${out.error!}` : out.error!;
        report.errors.push(finding(damaged ? 'damaged_copy' : 'unreadable_copy', 'hash', message, rel));
        failed.set(f.asset_id, {
          reason: damaged ? `damaged copy: ${message}; repair it from a good copy` : message,
          copyId: damaged ? f.copy_id : null,
          copyState: damaged ? 'mismatch' : null,
        });
        continue;
      }
      report.files++;
      report.bytes += out.bytes;
      restored.set(f.asset_id, writer.target(rel));
    }
    report.restoreSeconds = Math.round((Date.now() - restoreStart) / 100) / 10;

    // Open a sample like a person would: RAW previews, JPEGs, video headers (RAWs and videos first).
    const unreadable = new Set<string>();
    const openable = all
      .filter((f) => restored.has(f.asset_id) && openableKind(f.relative_path))
      .sort((a, b) => kindRank(a.relative_path) - kindRank(b.relative_path));
    for (const f of pickSpread(openable, settings.openSize)) {
      const check = await openLikeAPerson(restored.get(f.asset_id)!, `${f.card_label}/${f.relative_path}`);
      if (!check) continue;
      report.opened.push(check);
      // Only restored files are opened, and a restored file matched the card's hash: what cannot be opened
      // was like that on the card. A finding about the original, not an error of the backup.
      await this.db.query(
        `UPDATE assets SET open_finding = $2, open_finding_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END
          WHERE id = $1::bigint OR duplicate_of_asset_id = $1::bigint`,
        [f.asset_id, check.ok ? null : check.detail.slice(0, 1000)],
      );
      if (!check.ok) {
        report.findings.push(
          finding(
            'unreadable_original',
            'open',
            `cannot be opened as ${check.kind === 'video' ? 'a video' : 'an image'}: ${check.detail}`,
            check.path,
          ),
        );
        unreadable.add(f.asset_id);
      }
    }

    // Every lock still in force, as the target reports it.
    if (target.immutable) {
      for (const f of all) {
        try {
          const r = await driver.getRetention(f.key, f.version_id);
          report.locksChecked++;
          if (!retentionInForce(r)) {
            const message = `no retention in force on ${f.key} (${f.version_id})${f.retain_until ? `; the catalog expects ${f.lock_mode} until ${new Date(f.retain_until).toISOString()}` : ''}`;
            report.errors.push(finding('lock_not_in_force', 'lock', message, `${f.card_label}/${f.relative_path}`));
            if (!failed.has(f.asset_id)) failed.set(f.asset_id, { reason: message, copyId: null, copyState: null });
          }
        } catch (err) {
          const missing = isNotFound(err);
          const message = (err as Error).message;
          report.errors.push(finding(missing ? 'missing_copy' : 'unreadable_copy', 'lock', message, `${f.card_label}/${f.relative_path}`));
          if (!failed.has(f.asset_id))
            failed.set(f.asset_id, { reason: message, copyId: missing ? f.copy_id : null, copyState: missing ? 'missing' : null });
        }
      }
      report.deleteRefused = await this.deleteIsRefused(driver, all, report);
    }
    for (const f of all) if (restored.has(f.asset_id) && !failed.has(f.asset_id) && !unreadable.has(f.asset_id)) passed.push(f.asset_id);
  }

  /** The writer credential must be refused when it tries to delete a locked version. */
  private async deleteIsRefused(driver: OffsiteTarget, files: DrillFile[], report: DrillReport): Promise<boolean | null> {
    const probe = files.find((f) => f.retain_until && new Date(f.retain_until).getTime() > Date.now() + 60_000);
    if (!probe) return null;
    try {
      await driver.deleteVersion(probe.key, probe.version_id);
    } catch (err) {
      if (isTargetError(err) && (err.code === 'ObjectLocked' || err.code === 'AccessDenied')) return true;
      report.errors.push(
        finding('delete_not_refused', 'delete-refused', `deleting a locked version failed unexpectedly: ${(err as Error).message}`),
      );
      return false;
    }
    report.errors.push(
      finding(
        'delete_not_refused',
        'delete-refused',
        `the backup credential DELETED a locked version (${probe.key} ${probe.version_id}): the lock is not enforced and the key has delete rights`,
        `${probe.card_label}/${probe.relative_path}`,
      ),
    );
    return false;
  }
}

function kindRank(path: string): number {
  const k = openableKind(path);
  return k === 'raw' ? 0 : k === 'video' ? 1 : 2;
}

/** Up to n items spread over the list (not just its head). */
function pickSpread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor((i * items.length) / n)]);
  return out;
}
