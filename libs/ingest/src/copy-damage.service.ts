import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { AppError } from '@studiovault/common';
import { CopyState, DamageKind, ErrorCode, FindingOutcome, FindingSource, VolumeRole } from '@studiovault/contracts';
import { JobName, JobQueue } from '@studiovault/jobs';
import { IngestService } from './ingest.service';

export interface DamageReport {
  assetId: string;
  /** The local copy that was read (or the volume whose copy it is). */
  copyId?: string;
  volume?: VolumeRole;
  kind: DamageKind;
  foundBy: FindingSource;
  detail?: string;
}

export interface Finding {
  id: string;
  assetId: string;
  copyId: string | null;
  volume: VolumeRole | null;
  kind: DamageKind;
  foundBy: FindingSource;
  detail: string | null;
  foundAt: Date;
  outcome: FindingOutcome;
  healedFrom: string | null;
  quarantinePath: string | null;
  resolvedAt: Date | null;
}

const WORDS: Record<DamageKind, string> = {
  [DamageKind.Mismatch]: 'bytes differ',
  [DamageKind.Missing]: 'file missing',
  [DamageKind.Short]: 'file shorter',
  [DamageKind.Long]: 'file longer',
  [DamageKind.ReadError]: 'read error',
};

export function damageWords(kind: DamageKind): string {
  return WORDS[kind];
}

/**
 * Damage to a local copy, whoever found it (the scrub, a restore, a drill, a backup, the CLI):
 * the finding is recorded (catalog and audit), the copy marked mismatch or missing, its file at
 * risk and its card no longer safe, and the heal queued. One open finding per copy.
 */
@Injectable()
export class CopyDamageService {
  private readonly log = new Logger(CopyDamageService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ingest: IngestService,
    private readonly queue: JobQueue,
    private readonly audit: AuditService,
  ) {}

  async report(r: DamageReport): Promise<Finding> {
    const [copy]: { id: string; asset_id: string; role: VolumeRole; card_id: string; state: CopyState }[] = await this.db.query(
      `SELECT c.id::text, c.asset_id::text, v.role, a.card_id, c.state FROM copies c
         JOIN storage_volumes v ON v.id = c.volume_id JOIN assets a ON a.id = c.asset_id
        WHERE c.asset_id = $1::bigint AND ($2::bigint IS NULL OR c.id = $2::bigint) AND ($3::text IS NULL OR v.role = $3::text)
        ORDER BY c.id LIMIT 1`,
      [r.assetId, r.copyId ?? null, r.volume ?? null],
    );
    if (!copy)
      throw new AppError(ErrorCode.NotFound, `File ${r.assetId} has no ${r.volume ?? ''} copy on a local volume`.replace('  ', ' '));
    const open = await this.db.query(
      `SELECT id::text FROM integrity_findings WHERE copy_id = $1 AND outcome IN ('open','no_good_copy') ORDER BY id DESC LIMIT 1`,
      [copy.id],
    );
    const detail = (r.detail ?? damageWords(r.kind)).slice(0, 2000);
    let id: string;
    if (open.length) {
      id = open[0].id;
    } else {
      [{ id }] = await this.db.query(
        `INSERT INTO integrity_findings (asset_id, copy_id, volume_role, kind, found_by, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`,
        [copy.asset_id, copy.id, copy.role, r.kind, r.foundBy, detail],
      );
      await this.audit.record(
        'integrity.finding',
        { type: 'asset', id: copy.asset_id },
        { copy: copy.id, volume: copy.role, kind: r.kind, foundBy: r.foundBy, detail },
      );
      this.log.warn(`file ${copy.asset_id}: ${copy.role} copy: ${damageWords(r.kind)} (${r.foundBy}): ${detail}`);
    }
    const state = r.kind === DamageKind.Missing ? CopyState.Missing : CopyState.Mismatch;
    await this.db.query(
      `UPDATE copies SET state = $2, error = $3, verified_at = NULL, updated_at = now(),
              scrub_result = CASE WHEN $4 THEN $5 ELSE scrub_result END, last_scrubbed_at = CASE WHEN $4 THEN now() ELSE last_scrubbed_at END
        WHERE id = $1`,
      [copy.id, state, `${damageWords(r.kind)}: ${detail}`, r.foundBy === FindingSource.Scrub, r.kind],
    );
    await this.ingest.recomputeAsset(copy.asset_id);
    await this.ingest.afterAssetChange(copy.card_id);
    await this.queue.send(JobName.CopiesHeal, { findingId: id }, { singletonKey: `heal-${copy.id}` });
    return (await this.findings({ ids: [id] }))[0];
  }

  /** Findings of some files (newest first), or the latest ones overall. */
  async findings(q: { assetIds?: string[]; ids?: string[]; limit?: number }): Promise<Finding[]> {
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT id::text, asset_id::text, copy_id::text, volume_role, kind, found_by, detail, found_at, outcome, healed_from, quarantine_path, resolved_at
         FROM integrity_findings
        WHERE ($1::bigint[] IS NULL OR asset_id = ANY($1::bigint[])) AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
        ORDER BY found_at DESC, id DESC LIMIT $3`,
      [q.assetIds ?? null, q.ids ?? null, q.limit ?? 1000],
    );
    return rows.map((f) => ({
      id: f.id as string,
      assetId: f.asset_id as string,
      copyId: f.copy_id as string | null,
      volume: f.volume_role as VolumeRole | null,
      kind: f.kind as DamageKind,
      foundBy: f.found_by as FindingSource,
      detail: f.detail as string | null,
      foundAt: f.found_at as Date,
      outcome: f.outcome as FindingOutcome,
      healedFrom: f.healed_from as string | null,
      quarantinePath: f.quarantine_path as string | null,
      resolvedAt: f.resolved_at as Date | null,
    }));
  }
}
