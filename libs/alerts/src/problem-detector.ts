import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AlertSettings } from './alert-settings';

export type ProblemKind =
  | 'copy_damaged'
  | 'heal_failed'
  | 'volume_offline'
  | 'volume_low_space'
  | 'target_failing'
  | 'offsite_lagging'
  | 'drill_failed'
  | 'drill_overdue'
  | 'lock_not_read_back'
  | 'drive_reconnect';

/** A problem as the detector sees it now (identity: key). */
export interface DetectedProblem {
  key: string;
  kind: ProblemKind;
  severity: 'critical' | 'warning';
  title: string;
  subject: Record<string, unknown>;
  details: Record<string, unknown>;
  /** Portal path where it is fixed. */
  link: string;
}

/** Files listed in one problem (the rest are counted). */
const FILES_LISTED = 20;
const GB = 1024 ** 3;

interface AtRiskRow {
  id: string;
  card_id: string;
  card_label: string;
  project_id: string;
  project_slug: string;
  project_name: string;
  relative_path: string;
  reason: string | null;
  good_local: number;
  good_offsite: number;
  copies: { where: string; state: string; error: string | null }[] | null;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function gb(bytes: number): string {
  return `${(bytes / GB).toFixed(1)} GB`;
}

/**
 * Computes the problems that hold now from the catalog alone: state-based, so a pass that runs
 * twice finds the same problems, and a problem is gone when its cause is. The rules are here;
 * the alerts service diffs them against the open ones.
 */
@Injectable()
export class ProblemDetector {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async detect(s: AlertSettings, now = new Date()): Promise<DetectedProblem[]> {
    return [
      ...(await this.atRisk()),
      ...(await this.volumes(s)),
      ...(await this.targets(s, now)),
      ...(await this.offsiteLag(s)),
      ...(await this.drills(s)),
      ...(await this.locks()),
      ...(await this.drives(s, now)),
    ];
  }

  /** At-risk files (a mismatch or a missing copy, as scrub, verification or a drill marked them), one problem per card and kind. */
  private async atRisk(): Promise<DetectedProblem[]> {
    const rows: AtRiskRow[] = await this.db.query(
      `SELECT a.id, a.card_id, c.label AS card_label, p.id AS project_id, p.slug AS project_slug, p.name AS project_name,
              a.relative_path, a.protection_reason AS reason,
              (SELECT count(*)::int FROM copies k WHERE k.asset_id = a.id AND k.volume_id IS NOT NULL AND k.state = 'verified') AS good_local,
              (SELECT count(*)::int FROM copies k WHERE k.asset_id = a.id AND k.target_id IS NOT NULL AND k.state IN ('uploaded','immutable')) AS good_offsite,
              (SELECT json_agg(json_build_object('where', coalesce(v.role, t.name), 'state', k.state, 'error', k.error) ORDER BY k.id)
                 FROM copies k LEFT JOIN storage_volumes v ON v.id = k.volume_id LEFT JOIN offsite_targets t ON t.id = k.target_id
                WHERE k.asset_id = a.id) AS copies
         FROM assets a JOIN cards c ON c.id = a.card_id JOIN projects p ON p.id = a.project_id
        WHERE a.protection = 'at_risk'
        ORDER BY a.card_id, a.relative_path_nfc
        LIMIT 10000`,
    );
    const groups = new Map<string, { kind: ProblemKind; rows: AtRiskRow[] }>();
    for (const r of rows) {
      const kind: ProblemKind = r.good_local === 0 && r.good_offsite === 0 ? 'heal_failed' : 'copy_damaged';
      const key = `card:${r.card_id}:${kind}`;
      const g = groups.get(key) ?? { kind, rows: [] };
      g.rows.push(r);
      groups.set(key, g);
    }
    return [...groups.entries()].map(([key, { kind, rows: files }]) => {
      const f = files[0];
      const what = `${f.project_slug}/${f.card_label}`;
      const title =
        kind === 'heal_failed'
          ? `No good copy left of ${plural(files.length, 'file')} in card ${what}: heal failed`
          : `Damaged copies of ${plural(files.length, 'file')} in card ${what}`;
      return {
        key,
        kind,
        severity: 'critical',
        title,
        subject: {
          project: { id: f.project_id, slug: f.project_slug, name: f.project_name },
          card: { id: f.card_id, label: f.card_label },
        },
        details: {
          files: files.slice(0, FILES_LISTED).map((r) => ({
            path: `${r.project_slug}/${r.card_label}/${r.relative_path}`,
            reason: r.reason,
            copies: r.copies ?? [],
          })),
          fileCount: files.length,
        },
        link: `/projects/${encodeURIComponent(f.project_slug)}/cards/${f.card_id}`,
      };
    });
  }

  /** Offline volumes (with the reason the identity check gave) and volumes below the space the next card needs. */
  private async volumes(s: AlertSettings): Promise<DetectedProblem[]> {
    const vols: {
      id: string;
      role: string;
      root_path: string;
      state: string;
      offline_reason: string | null;
      free_bytes: string | null;
    }[] = await this.db.query(`SELECT id, role, root_path, state, offline_reason, free_bytes FROM storage_volumes ORDER BY role`);
    const [{ largest }] = await this.db.query(
      `SELECT coalesce(max(total_bytes), 0)::bigint AS largest FROM cards WHERE created_at > now() - interval '30 days'`,
    );
    const need = Math.max(s.lowSpaceGb * GB, Number(largest));
    const out: DetectedProblem[] = [];
    for (const v of vols) {
      const subject = { volume: { id: v.id, role: v.role, root: v.root_path } };
      if (v.state === 'offline') {
        out.push({
          key: `volume:${v.id}:offline`,
          kind: 'volume_offline',
          severity: 'critical',
          title: `The ${v.role} volume is offline: ${v.offline_reason ?? 'not reachable'}`,
          subject,
          details: { root: v.root_path, reason: v.offline_reason },
          link: '/admin/settings',
        });
      } else if (v.free_bytes !== null && Number(v.free_bytes) < need) {
        out.push({
          key: `volume:${v.id}:low_space`,
          kind: 'volume_low_space',
          severity: 'warning',
          title: `The ${v.role} volume is low on space: ${gb(Number(v.free_bytes))} free, below ${gb(need)}`,
          subject,
          details: { root: v.root_path, freeBytes: Number(v.free_bytes), neededBytes: need },
          link: '/admin/settings',
        });
      }
    }
    return out;
  }

  /**
   * Targets whose last run failed, or that stayed unreachable (their run retrying) longer than the
   * admin's time. A removable drive that is away is waiting, not failing.
   */
  private async targets(s: AlertSettings, now: Date): Promise<DetectedProblem[]> {
    const rows: {
      id: string;
      name: string;
      state: string;
      message: string | null;
      started_at: Date | null;
      finished_at: Date | null;
    }[] = await this.db.query(
      `SELECT t.id, t.name, r.state, r.message, r.started_at, r.finished_at
         FROM offsite_targets t
         JOIN LATERAL (SELECT * FROM backup_runs r WHERE r.target_id = t.id ORDER BY r.created_at DESC LIMIT 1) r ON true
        WHERE t.enabled ORDER BY t.name`,
    );
    const out: DetectedProblem[] = [];
    for (const r of rows) {
      const down =
        r.state === 'running' &&
        (r.message ?? '').startsWith('target unavailable') &&
        r.started_at !== null &&
        now.getTime() - new Date(r.started_at).getTime() > s.targetDownMinutes * 60_000;
      if (r.state !== 'failed' && !down) continue;
      out.push({
        key: `target:${r.id}:failing`,
        kind: 'target_failing',
        severity: 'critical',
        title:
          r.state === 'failed'
            ? `Off-site run to "${r.name}" failed: ${r.message ?? 'no message'}`
            : `Off-site target "${r.name}" unreachable for more than ${plural(s.targetDownMinutes, 'minute')}: ${r.message}`,
        subject: { target: { id: r.id, name: r.name } },
        details: { runState: r.state, message: r.message, since: r.started_at },
        link: '/admin/offsite',
      });
    }
    return out;
  }

  /** Files verified on both volumes but still without an off-site copy after the admin's hours. */
  private async offsiteLag(s: AlertSettings): Promise<DetectedProblem[]> {
    const [{ targets }] = await this.db.query(
      `SELECT count(*)::int AS targets FROM offsite_targets WHERE enabled AND (kind = 's3' OR rotates_offsite)`,
    );
    if (!targets) return [];
    const rows: { path: string }[] = await this.db.query(
      `SELECT p.slug || '/' || c.label || '/' || a.relative_path AS path
         FROM assets a JOIN cards c ON c.id = a.card_id JOIN projects p ON p.id = a.project_id
        WHERE a.protection = 'verified' AND a.duplicate_of_asset_id IS NULL AND c.verified_at < now() - make_interval(hours => $1)
        ORDER BY c.verified_at, a.id LIMIT ${FILES_LISTED}`,
      [s.offsiteLagHours],
    );
    if (!rows.length) return [];
    const [{ n }] = await this.db.query(
      `SELECT count(*)::int AS n FROM assets a JOIN cards c ON c.id = a.card_id
        WHERE a.protection = 'verified' AND a.duplicate_of_asset_id IS NULL AND c.verified_at < now() - make_interval(hours => $1)`,
      [s.offsiteLagHours],
    );
    return [
      {
        key: 'offsite:lagging',
        kind: 'offsite_lagging',
        severity: 'warning',
        title: `${plural(n, 'file')} verified locally but not off-site after ${plural(s.offsiteLagHours, 'hour')}`,
        subject: {},
        details: { files: rows.map((r) => ({ path: r.path })), fileCount: n },
        link: '/admin/offsite',
      },
    ];
  }

  /** The last drill failed, or none passed within the admin's days once there were off-site copies to drill. */
  private async drills(s: AlertSettings): Promise<DetectedProblem[]> {
    const out: DetectedProblem[] = [];
    const [last]: { id: string; state: string; error_count: number; finished_at: Date }[] = await this.db.query(
      `SELECT id, state, error_count, finished_at FROM restore_drills WHERE state IN ('passed','failed') ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
    );
    if (last?.state === 'failed')
      out.push({
        key: `drill:failed`,
        kind: 'drill_failed',
        severity: 'critical',
        title: `The last restore drill failed with ${plural(last.error_count, 'error')}`,
        subject: { drill: { id: last.id } },
        details: { drillId: last.id, errors: last.error_count, finishedAt: last.finished_at },
        link: '/drills',
      });
    const [{ due }] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM copies WHERE target_id IS NOT NULL AND state IN ('uploaded','immutable')
                        AND created_at < now() - make_interval(days => $1))
          AND NOT EXISTS (SELECT 1 FROM restore_drills WHERE state = 'passed' AND finished_at > now() - make_interval(days => $1)) AS due`,
      [s.drillOverdueDays],
    );
    if (due)
      out.push({
        key: 'drill:overdue',
        kind: 'drill_overdue',
        severity: 'warning',
        title: `No restore drill passed in the last ${plural(s.drillOverdueDays, 'day')}`,
        subject: {},
        details: { lastDrill: last ? { id: last.id, state: last.state, finishedAt: last.finished_at } : null },
        link: '/drills',
      });
    return out;
  }

  /** Copies on an immutable S3 target whose Object Lock retention did not read back. */
  private async locks(): Promise<DetectedProblem[]> {
    const rows: { id: string; name: string; n: number; paths: string[] }[] = await this.db.query(
      `SELECT t.id, t.name, count(*)::int AS n,
              (array_agg(p.slug || '/' || c.label || '/' || a.relative_path ORDER BY a.id))[1:${FILES_LISTED}] AS paths
         FROM copies k JOIN offsite_targets t ON t.id = k.target_id
         JOIN assets a ON a.id = k.asset_id JOIN cards c ON c.id = a.card_id JOIN projects p ON p.id = a.project_id
        WHERE t.kind = 's3' AND t.immutable AND k.state = 'uploaded' AND k.updated_at < now() - interval '10 minutes'
        GROUP BY t.id, t.name`,
    );
    return rows.map((r) => ({
      key: `target:${r.id}:locks`,
      kind: 'lock_not_read_back' as const,
      severity: 'critical' as const,
      title: `${plural(r.n, 'copy', 'copies')} on "${r.name}" whose Object Lock did not read back`,
      subject: { target: { id: r.id, name: r.name } },
      details: { files: r.paths.map((path) => ({ path })), fileCount: r.n },
      link: '/admin/offsite',
    }));
  }

  /** Removable drives not plugged in for the admin's days: say which drive to reconnect. */
  private async drives(s: AlertSettings, now: Date): Promise<DetectedProblem[]> {
    const rows: { id: string; name: string; path: string; last_seen_at: Date | null; created_at: Date }[] = await this.db.query(
      `SELECT id, name, settings->>'path' AS path, last_seen_at, created_at FROM offsite_targets
        WHERE enabled AND kind = 'disk' AND removable AND coalesce(last_seen_at, created_at) < now() - make_interval(days => $1)`,
      [s.driveReminderDays],
    );
    return rows.map((r) => {
      const seen = r.last_seen_at ? new Date(r.last_seen_at) : null;
      const days = Math.floor((now.getTime() - (seen ?? new Date(r.created_at)).getTime()) / 86_400_000);
      return {
        key: `target:${r.id}:reconnect`,
        kind: 'drive_reconnect' as const,
        severity: 'warning' as const,
        title: `Reconnect the drive "${r.name}": not seen for ${plural(days, 'day')}${seen ? ` (last seen ${seen.toISOString().slice(0, 10)})` : ''}`,
        subject: { target: { id: r.id, name: r.name, path: r.path } },
        details: { path: r.path, lastSeenAt: seen, days },
        link: '/admin/offsite',
      };
    });
  }
}
