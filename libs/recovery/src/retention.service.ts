import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { unlink } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { DEFAULT_LOCK_DAYS, TargetsService } from '@studiovault/backup';
import { AppError, currentContext } from '@studiovault/common';
import { isUniqueViolation, RetentionPolicyEntity } from '@studiovault/catalog';
import { ErrorCode, FileClass, LockMode, ProjectType } from '@studiovault/contracts';
import { VolumeFiles } from '@studiovault/ingest';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { ensureRetention, retentionInForce } from '@studiovault/offsite';

/** Over a hundred years is a typo, not a policy. */
export const MAX_POLICY_DAYS = 36_500;

export interface PolicyInput {
  fileClass: FileClass;
  projectType?: ProjectType | null;
  lockMode: LockMode;
  lockDays: number;
  versionKeepDays: number;
  /** Days a file stays on the NAS after it is immutable off-site and drilled; null: forever. */
  localKeepDays: number | null;
}

export interface ExpiryItem {
  kind: 'local' | 'offsite';
  assetId: string;
  path: string;
  bytes: number;
  /** local: the volume copy; offsite: the target and version. */
  copyId: string;
  why: string;
}

/**
 * Retention policies, legal holds and expiry with guard rails. Lengthening a policy extends the
 * locks already set; shortening only affects new uploads. Expiry is a preview the admin confirms;
 * it re-checks every guard rail before removing anything, and off-site deletes use the target's
 * separate maintenance credential, never the nightly writer's.
 */
@Injectable()
export class RetentionService {
  private readonly log = new Logger(RetentionService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly targets: TargetsService,
    private readonly queue: JobQueue,
    private readonly audit: AuditService,
  ) {}

  /** The admin's policies, and the defaults for classes without one. */
  async policies(): Promise<{ policies: RetentionPolicyEntity[]; defaults: Record<FileClass, number> }> {
    const policies = await this.db.getRepository(RetentionPolicyEntity).find({ order: { fileClass: 'ASC', projectType: 'ASC' } });
    return { policies, defaults: DEFAULT_LOCK_DAYS };
  }

  private validate(p: PolicyInput): void {
    const problems: string[] = [];
    for (const [name, v] of [
      ['lockDays', p.lockDays],
      ['versionKeepDays', p.versionKeepDays],
      ['localKeepDays', p.localKeepDays],
    ] as const) {
      if (v === null && name === 'localKeepDays') continue;
      if (!Number.isInteger(v) || (v as number) < 0) problems.push(`${name}: a whole number of days, 0 or more`);
      else if ((v as number) > MAX_POLICY_DAYS) problems.push(`${name}: at most ${MAX_POLICY_DAYS} days (100 years)`);
    }
    if (p.versionKeepDays < p.lockDays) problems.push('versionKeepDays: at least lockDays (a version cannot go before its lock ends)');
    if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'Invalid retention policy', problems);
  }

  async upsert(p: PolicyInput): Promise<RetentionPolicyEntity> {
    this.validate(p);
    const repo = this.db.getRepository(RetentionPolicyEntity);
    const existing = await repo
      .createQueryBuilder('r')
      .where('r.fileClass = :c', { c: p.fileClass })
      .andWhere(p.projectType ? 'r.projectType = :t' : 'r.projectType IS NULL', { t: p.projectType })
      .getOne();
    const before = existing ? { lockDays: existing.lockDays, lockMode: existing.lockMode } : null;
    let saved: RetentionPolicyEntity;
    try {
      saved = await repo.save(
        repo.create({
          ...(existing ?? {}),
          fileClass: p.fileClass,
          projectType: p.projectType ?? null,
          lockMode: p.lockMode,
          lockDays: p.lockDays,
          versionKeepDays: p.versionKeepDays,
          localKeepDays: p.localKeepDays,
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.Conflict, 'A policy for this class and project type exists already');
      throw err;
    }
    const oldDays = before?.lockDays ?? DEFAULT_LOCK_DAYS[p.fileClass];
    const lengthened = p.lockDays > oldDays;
    await this.audit.record(
      'retention.policy',
      { type: 'retention_policy', id: saved.id },
      {
        fileClass: p.fileClass,
        projectType: p.projectType ?? null,
        before,
        after: { lockMode: p.lockMode, lockDays: p.lockDays, versionKeepDays: p.versionKeepDays, localKeepDays: p.localKeepDays },
        extendsExistingLocks: lengthened,
      },
    );
    if (lengthened) await this.queue.send(JobName.RetentionExtend, { policyId: saved.id });
    return saved;
  }

  async remove(id: string): Promise<void> {
    const repo = this.db.getRepository(RetentionPolicyEntity);
    const p = /^[0-9a-f-]{36}$/i.test(id) ? await repo.findOne({ where: { id } }) : null;
    if (!p) throw new AppError(ErrorCode.NotFound, `No retention policy with id ${id}`);
    await repo.delete(id);
    await this.audit.record(
      'retention.policy.delete',
      { type: 'retention_policy', id },
      { fileClass: p.fileClass, projectType: p.projectType },
    );
  }

  /** A lengthened policy: every locked copy it covers gets the longer date (counted from its upload); never shortened. */
  @OnJob(JobName.RetentionExtend)
  async extend(data: { policyId: string }): Promise<{ extended: number; errors: number }> {
    const p = await this.db.getRepository(RetentionPolicyEntity).findOne({ where: { id: data.policyId } });
    if (!p) return { extended: 0, errors: 0 };
    const rows: { id: string; target_id: string; location: string; version_id: string; verified_at: Date; retain_until: Date | null }[] =
      await this.db.query(
        `SELECT c.id::text, c.target_id, c.location, c.version_id, c.verified_at, c.retain_until
           FROM copies c JOIN assets a ON a.id = c.asset_id JOIN projects pr ON pr.id = a.project_id JOIN offsite_targets t ON t.id = c.target_id
          WHERE c.state = 'immutable' AND t.immutable AND a.file_class = $1 AND ($2::text IS NULL OR pr.type = $2)
            AND c.retain_until < c.verified_at + make_interval(days => $3)`,
        [p.fileClass, p.projectType, p.lockDays],
      );
    let extended = 0;
    let errors = 0;
    for (const r of rows) {
      try {
        const driver = await this.targets.open(await this.targets.get(r.target_id));
        const until = new Date(new Date(r.verified_at).getTime() + p.lockDays * 86_400_000);
        const ensured = await ensureRetention(driver, r.location, r.version_id, { mode: p.lockMode, retainUntil: until });
        await this.db.query(`UPDATE copies SET retain_until = $2, lock_mode = $3, lock_checked_at = now() WHERE id = $1`, [
          r.id,
          ensured.retention.retainUntil,
          ensured.retention.mode,
        ]);
        extended++;
      } catch (err) {
        errors++;
        this.log.warn(`extending the lock of copy ${r.id}: ${(err as Error).message}`);
      }
    }
    await this.audit.record('retention.extended', { type: 'retention_policy', id: p.id }, { extended, errors });
    return { extended, errors };
  }

  // ---- legal hold ----

  async setLegalHold(slug: string, on: boolean, reason: string | null): Promise<{ legalHold: boolean; reason: string | null }> {
    const [project] = await this.db.query(`SELECT id, legal_hold FROM projects WHERE slug = $1`, [slug]);
    if (!project) throw new AppError(ErrorCode.NotFound, `No project "${slug}"`);
    if (on && !reason?.trim())
      throw new AppError(ErrorCode.ValidationFailed, 'A legal hold needs a reason (e.g. "client dispute, case 2026-114")', [
        'reason: required',
      ]);
    await this.db.query(`UPDATE projects SET legal_hold = $2, legal_hold_reason = $3, updated_at = now() WHERE id = $1`, [
      project.id,
      on,
      on ? reason!.trim() : null,
    ]);
    await this.audit.record(on ? 'project.legal_hold.on' : 'project.legal_hold.off', { type: 'project', id: project.id }, { slug, reason });
    await this.queue.send(JobName.LegalHoldApply, { projectId: project.id });
    return { legalHold: on, reason: on ? reason!.trim() : null };
  }

  /** Sets (or clears) S3 legal hold on every off-site object of the project, files and card manifests. */
  @OnJob(JobName.LegalHoldApply)
  async applyLegalHold(data: { projectId: string }): Promise<{ objects: number }> {
    const [project] = await this.db.query(`SELECT legal_hold FROM projects WHERE id = $1`, [data.projectId]);
    if (!project) return { objects: 0 };
    const rows: { target_id: string; key: string; version_id: string }[] = await this.db.query(
      `SELECT c.target_id, c.location AS key, c.version_id FROM copies c JOIN assets a ON a.id = coalesce(
              (SELECT duplicate_of_asset_id FROM assets x WHERE x.id = c.asset_id), c.asset_id)
         JOIN offsite_targets t ON t.id = c.target_id
        WHERE c.asset_id IN (SELECT coalesce(duplicate_of_asset_id, id) FROM assets WHERE project_id = $1)
          AND c.state IN ('uploaded','immutable') AND c.version_id IS NOT NULL AND t.kind = 's3'
       UNION
       SELECT o.target_id, o.object_key, o.version_id FROM offsite_objects o JOIN cards cd ON cd.id = o.card_id
         JOIN offsite_targets t ON t.id = o.target_id WHERE cd.project_id = $1 AND t.kind = 's3'`,
      [data.projectId],
    );
    let n = 0;
    for (const r of rows) {
      const driver = await this.targets.open(await this.targets.get(r.target_id));
      const shared =
        !project.legal_hold &&
        (
          await this.db.query(
            `SELECT 1 FROM copies c JOIN assets a ON a.id = c.asset_id JOIN projects p ON p.id = a.project_id
              WHERE c.target_id = $1 AND c.location = $2 AND c.version_id = $3 AND p.legal_hold AND p.id <> $4 LIMIT 1`,
            [r.target_id, r.key, r.version_id, data.projectId],
          )
        ).length > 0;
      if (shared) continue; // the same bytes are held for another project
      await driver.putLegalHold(r.key, r.version_id, Boolean(project.legal_hold));
      n++;
    }
    await this.audit.record(
      'project.legal_hold.applied',
      { type: 'project', id: data.projectId },
      { objects: n, on: Boolean(project.legal_hold) },
    );
    return { objects: n };
  }

  // ---- expiry ----

  /**
   * What the policies allow to expire now, as a dry run: local copies past their keep period whose
   * off-site copy is immutable and drilled, and off-site versions past their lock and keep period.
   * Never anything under legal hold, under lock, or without a verified copy elsewhere.
   */
  async preview(): Promise<{
    id: string;
    localFiles: number;
    localBytes: number;
    offsiteVersions: number;
    offsiteBytes: number;
    items: ExpiryItem[];
  }> {
    const local: { copy_id: string; asset_id: string; path: string; size: string; role: string; days: number }[] = await this.db.query(
      `WITH pol AS (
         SELECT a.id, coalesce(
           (SELECT r.local_keep_days FROM retention_policies r WHERE r.file_class = a.file_class AND r.project_type = p.type),
           (SELECT r.local_keep_days FROM retention_policies r WHERE r.file_class = a.file_class AND r.project_type IS NULL)) AS days
           FROM assets a JOIN projects p ON p.id = a.project_id
          WHERE a.duplicate_of_asset_id IS NULL AND NOT p.legal_hold AND a.protection = 'drilled')
       SELECT c.id::text AS copy_id, a.id::text AS asset_id, cd.label || '/' || a.relative_path AS path, a.size::text, v.role, pol.days
         FROM pol JOIN assets a ON a.id = pol.id JOIN cards cd ON cd.id = a.card_id
         JOIN copies c ON c.asset_id = a.id AND c.volume_id IS NOT NULL AND c.state = 'verified'
         JOIN storage_volumes v ON v.id = c.volume_id
        WHERE pol.days IS NOT NULL
          AND EXISTS (SELECT 1 FROM copies o JOIN offsite_targets t ON t.id = o.target_id
                       WHERE o.asset_id = a.id AND o.state = 'immutable' AND o.retain_until > now() AND t.kind = 's3'
                         AND o.verified_at + make_interval(days => pol.days) < now())
        ORDER BY a.id, v.role`,
    );
    const offsite: { copy_id: string; asset_id: string; path: string; size: string; target: string }[] = await this.db.query(
      `SELECT c.id::text AS copy_id, a.id::text AS asset_id, cd.label || '/' || a.relative_path AS path, a.size::text, t.name AS target
         FROM copies c JOIN assets a ON a.id = c.asset_id JOIN projects p ON p.id = a.project_id JOIN cards cd ON cd.id = a.card_id
         JOIN offsite_targets t ON t.id = c.target_id
        WHERE c.target_id IS NOT NULL AND c.state IN ('uploaded','immutable') AND NOT p.legal_hold
          AND (c.retain_until IS NULL OR c.retain_until < now())
          AND c.verified_at + make_interval(days => coalesce(
                (SELECT r.version_keep_days FROM retention_policies r WHERE r.file_class = a.file_class AND r.project_type = p.type),
                (SELECT r.version_keep_days FROM retention_policies r WHERE r.file_class = a.file_class AND r.project_type IS NULL),
                36500)) < now()
          -- another verified copy must remain: a local one, or another off-site version
          AND EXISTS (SELECT 1 FROM copies o WHERE o.asset_id = a.id AND o.id <> c.id AND o.state IN ('verified','immutable'))
          AND NOT EXISTS (SELECT 1 FROM copies o JOIN assets b ON b.id = o.asset_id JOIN projects q ON q.id = b.project_id
                           WHERE o.target_id = c.target_id AND o.location = c.location AND o.version_id = c.version_id AND (q.legal_hold OR o.retain_until > now()))`,
    );
    // Keep at least one local copy: a file leaves the NAS only from the mirror unless the policy removes both.
    const items: ExpiryItem[] = [
      ...local.map((r) => ({
        kind: 'local' as const,
        assetId: r.asset_id,
        path: r.path,
        bytes: Number(r.size),
        copyId: r.copy_id,
        why: `${r.role} copy: kept ${r.days} day(s) after it was locked off-site, and drilled`,
      })),
      ...offsite.map((r) => ({
        kind: 'offsite' as const,
        assetId: r.asset_id,
        path: r.path,
        bytes: Number(r.size),
        copyId: r.copy_id,
        why: `version on "${r.target}": lock and keep period over, another verified copy exists`,
      })),
    ];
    const sum = (k: ExpiryItem['kind']) => items.filter((i) => i.kind === k);
    const [{ id }] = await this.db.query(
      `INSERT INTO expiry_previews (items, local_files, local_bytes, offsite_versions, offsite_bytes, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        JSON.stringify(items),
        sum('local').length,
        sum('local').reduce((a, i) => a + i.bytes, 0),
        sum('offsite').length,
        sum('offsite').reduce((a, i) => a + i.bytes, 0),
        actorId(),
      ],
    );
    return {
      id,
      localFiles: sum('local').length,
      localBytes: sum('local').reduce((a, i) => a + i.bytes, 0),
      offsiteVersions: sum('offsite').length,
      offsiteBytes: sum('offsite').reduce((a, i) => a + i.bytes, 0),
      items: items.slice(0, 1000),
    };
  }

  async confirm(previewId: string): Promise<{ id: string; state: string }> {
    const [p] = /^[0-9a-f-]{36}$/i.test(previewId) ? await this.db.query(`SELECT * FROM expiry_previews WHERE id = $1`, [previewId]) : [];
    if (!p) throw new AppError(ErrorCode.NotFound, `No expiry preview with id ${previewId}`);
    if (p.state !== 'previewed') throw new AppError(ErrorCode.Conflict, `This preview was already ${p.state}: make a new one`);
    if (Date.now() - new Date(p.created_at).getTime() > 3600_000)
      throw new AppError(ErrorCode.Conflict, 'This preview is over an hour old: make a new one');
    await this.db.query(`UPDATE expiry_previews SET state = 'confirmed', confirmed_at = now() WHERE id = $1`, [previewId]);
    await this.audit.record(
      'expiry.confirm',
      { type: 'expiry_preview', id: previewId },
      {
        localFiles: p.local_files,
        localBytes: Number(p.local_bytes),
        offsiteVersions: p.offsite_versions,
      },
    );
    await this.queue.send(JobName.ExpiryApply, { previewId });
    return { id: previewId, state: 'confirmed' };
  }

  async expiryState(id: string): Promise<{ id: string; state: string; result?: Record<string, unknown> }> {
    const [p] = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.query(`SELECT id, state, result FROM expiry_previews WHERE id = $1`, [id]) : [];
    if (!p) throw new AppError(ErrorCode.NotFound, `No expiry preview with id ${id}`);
    return { id: p.id, state: p.state, ...(p.result ? { result: p.result } : {}) };
  }

  /** Removes what the confirmed preview listed, re-checking the guard rails item by item. */
  @OnJob(JobName.ExpiryApply)
  async applyExpiry(data: { previewId: string }): Promise<unknown> {
    try {
      return await this.applyExpiryItems(data);
    } catch (err) {
      await this.db.query(`UPDATE expiry_previews SET state = 'failed', result = $2 WHERE id = $1`, [
        data.previewId,
        JSON.stringify({ error: (err as Error).message }),
      ]);
      throw err;
    }
  }

  private async applyExpiryItems(data: { previewId: string }): Promise<unknown> {
    const [p] = await this.db.query(`SELECT * FROM expiry_previews WHERE id = $1`, [data.previewId]);
    if (!p || p.state !== 'confirmed') return { skipped: true };
    const result = { removedLocal: 0, removedOffsite: 0, refused: [] as { path: string; why: string }[] };
    for (const item of p.items as ExpiryItem[]) {
      const why = await this.refusal(item);
      if (why) {
        result.refused.push({ path: item.path, why });
        continue;
      }
      try {
        if (item.kind === 'local') {
          const [c] = await this.db.query(
            `SELECT v.role, v.root_path, c.location FROM copies c JOIN storage_volumes v ON v.id = c.volume_id WHERE c.id = $1`,
            [item.copyId],
          );
          await unlink(new VolumeFiles(c.role, c.root_path).finalPath(c.location)).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
          });
          // The row goes with the file (the audit keeps the record): a "missing" copy would be repaired back.
          await this.db.query(`DELETE FROM copies WHERE id = $1`, [item.copyId]);
          result.removedLocal++;
        } else {
          const [c] = await this.db.query(`SELECT target_id, location, version_id FROM copies WHERE id = $1`, [item.copyId]);
          const target = await this.targets.get(c.target_id);
          const maintenance = await this.targets.openMaintenance(target);
          await maintenance.deleteVersion(c.location, c.version_id);
          await this.db.query(`DELETE FROM copies WHERE id = $1`, [item.copyId]);
          result.removedOffsite++;
        }
        await this.audit.record(
          'expiry.delete',
          { type: 'asset', id: item.assetId },
          { kind: item.kind, path: item.path, bytes: item.bytes },
        );
      } catch (err) {
        result.refused.push({ path: item.path, why: (err as Error).message });
      }
    }
    await this.db.query(`UPDATE expiry_previews SET state = 'done', result = $2 WHERE id = $1`, [data.previewId, JSON.stringify(result)]);
    return result;
  }

  /** The guard rails, checked again at the moment of removal. */
  private async refusal(item: ExpiryItem): Promise<string | null> {
    const [row] = await this.db.query(
      `SELECT p.legal_hold, c.state, c.retain_until, c.target_id, c.location, c.version_id,
              (SELECT count(*)::int FROM copies o WHERE o.asset_id = c.asset_id AND o.id <> c.id AND o.state IN ('verified','immutable')) AS others
         FROM copies c JOIN assets a ON a.id = c.asset_id JOIN projects p ON p.id = a.project_id WHERE c.id = $1`,
      [item.copyId],
    );
    if (!row) return 'the copy is gone';
    if (row.legal_hold) return 'the project is under legal hold';
    if (row.others < 1) return 'no verified copy elsewhere';
    if (item.kind === 'offsite') {
      if (row.retain_until && new Date(row.retain_until).getTime() > Date.now()) return 'still locked';
      const driver = await this.targets.open(await this.targets.get(row.target_id));
      if (retentionInForce(await driver.getRetention(row.location, row.version_id))) return 'the target reports a lock in force';
      if (await driver.getLegalHold(row.location, row.version_id)) return 'the target reports a legal hold';
    } else if (row.state !== 'verified') return `the copy is ${row.state}`;
    return null;
  }
}

function actorId(): string | null {
  const id = currentContext()?.actor?.userId;
  return id && id !== 'system' ? id : null;
}
