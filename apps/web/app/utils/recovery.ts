import type { Schemas } from '@studiovault/api-client';

export type Drill = Schemas['DrillDto'];
export type DrillSettings = Schemas['DrillSettingsDto'];
export type DrillError = Schemas['DrillErrorDto'];
export type RestoreJob = Schemas['RestoreDto'];
export type RestorePlan = Schemas['RestorePlanDto'];
export type RestoreFile = Schemas['RestoreFileDto'];
export type RetentionPolicy = Schemas['RetentionPolicyDto'];
export type FileClass = Schemas['FileClass'];
export type ExpiryPreview = Schemas['ExpiryPreviewDto'];
export type ExpiryState = Schemas['ExpiryStateDto'];

// ---- drills --------------------------------------------------------------------------------

export const DRILL_STATE_LABELS: Record<Drill['state'], string> = {
  queued: 'queued',
  running: 'running',
  passed: 'passed',
  failed: 'failed',
};

export const DRILL_TRIGGER_LABELS: Record<Drill['trigger'], string> = {
  schedule: 'schedule',
  manual: 'by hand',
};

/** What each drill check proves, in a studio's words. */
export const DRILL_CHECK_LABELS: Record<DrillError['check'], string> = {
  target: 'target',
  restore: 'restore',
  hash: 'hash',
  open: 'open',
  lock: 'lock',
  'delete-refused': 'delete refused',
};

/** What each kind of drill finding is, in a studio's words. */
export const DRILL_KIND_LABELS: Record<DrillError['kind'], string> = {
  damaged_copy: 'damaged copy',
  missing_copy: 'missing copy',
  unreadable_copy: 'copy not readable',
  unreadable_original: 'original cannot be opened',
  lock_not_in_force: 'lock not in force',
  delete_not_refused: 'delete not refused',
  target_unreachable: 'target',
};

/** The advice of each kind of finding, once per kind (the server's words). */
export function drillAdvice(items: Pick<DrillError, 'kind' | 'advice'>[]): { kind: DrillError['kind']; advice: string }[] {
  const seen = new Set<string>();
  return items.filter((e) => e.advice && !seen.has(e.kind) && seen.add(e.kind)).map((e) => ({ kind: e.kind, advice: e.advice }));
}

export const OPENED_KIND_LABELS: Record<string, string> = { raw: 'RAW', jpeg: 'JPEG', video: 'Video' };

/** A drill still going on its own: the portal polls while one is shown. */
export function isDrillActive(d: Pick<Drill, 'state'> | null | undefined): boolean {
  return d?.state === 'queued' || d?.state === 'running';
}

/** "backup key refused to delete a locked version": yes, no, or why it was not tried. */
export function deleteRefusedText(value: boolean | null | undefined): string {
  if (value === true) return 'yes';
  if (value === false) return 'no';
  return 'not tried (no locked version on the target)';
}

// ---- restores ------------------------------------------------------------------------------

export const RESTORE_STATE_LABELS: Record<RestoreJob['state'], string> = {
  queued: 'queued',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
};

export type RestoreSourceChoice = 'best' | 'primary' | 'mirror' | 'offsite';

export const RESTORE_SOURCES: { value: RestoreSourceChoice; title: string; explain: string }[] = [
  { value: 'best', title: 'Best copy', explain: 'the healthiest copy of each file: primary, then mirror, then off-site' },
  { value: 'primary', title: 'Primary volume', explain: 'only the primary copy on the NAS' },
  { value: 'mirror', title: 'Mirror volume', explain: 'only the mirror copy on the NAS' },
  { value: 'offsite', title: 'Off-site', explain: 'downloaded from the off-site target' },
];

export const RESTORE_SOURCE_LABELS: Record<RestoreJob['source'], string> = {
  auto: 'best copy',
  primary: 'primary',
  mirror: 'mirror',
  offsite: 'off-site',
};

export function isRestoreActive(r: Pick<RestoreJob, 'state'> | null | undefined): boolean {
  return r?.state === 'queued' || r?.state === 'running';
}

/**
 * Where a browser downloads one file of a restore plan: the API streams it from the best healthy
 * copy, with the session cookie (a plain link works).
 */
export function fileContentUrl(assetId: string): string {
  return `/api/assets/${encodeURIComponent(assetId)}/content`;
}

/** "datetime-local" value (local time, no zone) → ISO instant; '' → undefined. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

// ---- retention -----------------------------------------------------------------------------

/** The file classes of a retention policy, with the file types each one covers. */
export const FILE_CLASSES: { value: FileClass; label: string; examples: string }[] = [
  { value: 'raw', label: 'RAW', examples: 'cr2, cr3, nef, nrw, arw, raf, rw2, orf, dng, iiq, 3fr' },
  { value: 'video', label: 'Video', examples: 'mov, mp4, mxf, braw, r3d, crm' },
  { value: 'image', label: 'Images', examples: 'JPEG, HEIF, TIFF' },
  { value: 'sidecar', label: 'Sidecars', examples: 'xmp' },
  { value: 'catalog', label: 'Lightroom catalogs', examples: 'lrcat and its backups' },
  { value: 'other', label: 'Other', examples: 'everything else' },
];

export const FILE_CLASS_LABELS: Record<string, string> = Object.fromEntries(FILE_CLASSES.map((c) => [c.value, c.label]));

/** The expiry result the server keeps once an expiry is done (ExpiryStateDto.result is untyped). */
export interface ExpiryResult {
  removedLocal: number;
  removedOffsite: number;
  refused: { path: string; why: string }[];
}

export function expiryResult(state: ExpiryState | null | undefined): ExpiryResult | null {
  const r = state?.result;
  if (!r) return null;
  return {
    removedLocal: Number(r.removedLocal ?? 0),
    removedOffsite: Number(r.removedOffsite ?? 0),
    refused: Array.isArray(r.refused) ? (r.refused as ExpiryResult['refused']) : [],
  };
}
