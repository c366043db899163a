import { FileClass, LockMode } from '@studiovault/contracts';

/**
 * How long each class of file is locked off-site when the admin has set no policy for it:
 * a year for everything, two for delivered images (JPEG/HEIF/TIFF), which studios keep longest.
 * The admin's retention policies (issue 5's editor) override these per class and project type.
 */
export const DEFAULT_LOCK_DAYS: Record<FileClass, number> = {
  [FileClass.Raw]: 365,
  [FileClass.Video]: 365,
  [FileClass.Image]: 730,
  [FileClass.Sidecar]: 365,
  [FileClass.Catalog]: 365,
  [FileClass.Other]: 365,
};

export interface PolicyRow {
  file_class: FileClass;
  project_type: string | null;
  lock_mode: LockMode;
  lock_days: number;
}

/** The lock a file of this class and project type gets: its policy (type-specific first), else the default with the target's mode. */
export function lockFor(
  policies: readonly PolicyRow[],
  fileClass: FileClass,
  projectType: string | null,
  targetMode: LockMode,
  now = new Date(),
): { mode: LockMode; retainUntil: Date; days: number } {
  const policy =
    policies.find((p) => p.file_class === fileClass && p.project_type !== null && p.project_type === projectType) ??
    policies.find((p) => p.file_class === fileClass && p.project_type === null);
  const days = policy?.lock_days ?? DEFAULT_LOCK_DAYS[fileClass] ?? DEFAULT_LOCK_DAYS[FileClass.Other];
  const mode = policy?.lock_mode ?? targetMode;
  return { mode, days, retainUntil: new Date(now.getTime() + days * 86_400_000) };
}
