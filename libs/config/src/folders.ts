import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * System folders nothing of StudioVault's may be written into or below (restores, disk
 * targets), whatever a setting says: a card labelled "cron.d" restored into /etc would be a cron job.
 */
export const SYSTEM_FOLDERS: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib',
  '/var/log',
  '/var/run',
  '/var/spool',
];

/** True when `child` is `parent` or lies below it (both absolute and normalized). */
export function isSameOrInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Why a folder may not hold restores or targets (a system folder, the file system root), or null. */
export function systemFolderProblem(folder: string): string | null {
  if (folder === '/' || folder === '') return 'it is the root of the file system';
  const hit = SYSTEM_FOLDERS.find((s) => isSameOrInside(s, folder));
  return hit ? `it is a system folder (${hit})` : null;
}

/** A list of absolute folders, separated by commas or colons (like PATH). */
export function parseFolderList(raw: string | undefined): string[] {
  if (!raw) return [];
  return [
    ...new Set(
      raw
        .split(/[,:]/)
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (isAbsolute(s) ? resolve(s) : s)),
    ),
  ];
}
