import type { Schemas } from '@studiovault/api-client';

export type Target = Schemas['TargetDto'];
export type BackupRun = Schemas['BackupRunDto'];
export type PreflightCheck = Schemas['PreflightCheckDto'];
export type TargetHealth = Target['health'];
export type LockMode = Schemas['LockMode'];

/** Lock modes in a studio's words (one line each, shown beside the choice). */
export const LOCK_MODES: { value: LockMode; title: string; explain: string }[] = [
  {
    value: 'GOVERNANCE',
    title: 'Governance (recommended)',
    explain:
      'Nobody can delete or shorten a locked copy with StudioVault’s key; the storage account’s owner can still lift the lock in an emergency.',
  },
  {
    value: 'COMPLIANCE',
    title: 'Compliance',
    explain: 'Nobody can delete a locked copy or shorten its lock until the date passes: not you, not the provider. Mistakes cost storage.',
  },
];

export const HEALTH_LABELS: Record<TargetHealth, string> = {
  ok: 'ok',
  failing: 'failing',
  untested: 'untested',
};

export const HEALTH_MEANINGS: Record<TargetHealth, string> = {
  ok: 'The last connection test passed and the last run had no errors',
  failing: 'The last connection test failed, or the last run failed or had errors',
  untested: 'Not tested yet',
};

export const RUN_STATE_LABELS: Record<BackupRun['state'], string> = {
  queued: 'queued',
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  failed: 'failed',
};

export const RUN_TRIGGER_LABELS: Record<BackupRun['trigger'], string> = {
  nightly: 'nightly',
  schedule: 'schedule',
  ingest: 'after ingest',
  manual: 'by hand',
};

/** A run still going on its own: the portal polls while one is shown. */
export function isRunActive(run: Pick<BackupRun, 'state'> | null | undefined): boolean {
  return run?.state === 'queued' || run?.state === 'running';
}

/** Where a target's copies go: "bucket/prefix at endpoint", "bucket at AWS (region)", or the disk folder. */
export function targetWhere(t: Pick<Target, 'kind' | 'bucket' | 'prefix' | 'endpoint' | 'region' | 'path'>): string {
  if (t.kind === 'disk') return t.path ?? '—';
  const where = `${t.bucket ?? '?'}${t.prefix ? `/${t.prefix.replace(/\/+$/, '')}` : ''}`;
  return t.endpoint ? `${where} at ${t.endpoint}` : `${where} at AWS${t.region ? ` (${t.region})` : ''}`;
}

export const TARGET_KIND_LABELS: Record<Target['kind'], string> = {
  s3: 'S3',
  disk: 'Disk',
};

/** "12.5 MB/s", or "—". */
export function formatRate(mbps: number | null | undefined): string {
  if (mbps === null || mbps === undefined) return '—';
  return `${mbps >= 100 ? Math.round(mbps) : mbps.toFixed(1)} MB/s`;
}

/** "4 s", "3 min 12 s", "2 h 05 min", or "—". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
