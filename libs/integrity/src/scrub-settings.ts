import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

/** The admin's scrub settings (one JSON row in `settings`). */
export interface ScrubSettings {
  /** Every local copy is re-read from its device at least once in this many days. */
  cycleDays: number;
  /** I/O cap of the scrub, MB/s (10^6 bytes) over both volumes; 0: uncapped. */
  rateMBps: number;
  /** "HH:MM" in the server's time zone: no scheduled scrub from quietStart to quietEnd (null: none). */
  quietStart: string | null;
  quietEnd: string | null;
  /** Days the damaged bytes stay in `<root>/.studiovault-quarantine/<date>/` before they are deleted (audited). */
  quarantineDays: number;
  /** A job run re-reads at most this many files or this many MB, then yields (the next slice is queued). */
  sliceFiles: number;
  sliceMB: number;
}

export const SCRUB_SETTINGS_KEY = 'scrub.settings';

export const DEFAULT_SCRUB_SETTINGS: ScrubSettings = {
  cycleDays: 30,
  rateMBps: 0,
  quietStart: null,
  quietEnd: null,
  quarantineDays: 30,
  sliceFiles: 500,
  sliceMB: 4096,
};

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Merges a change into the settings, or says every wrong field. */
export function validateScrubSettings(base: ScrubSettings, change: Partial<ScrubSettings>): ScrubSettings {
  const next = { ...base, ...change };
  const problems: string[] = [];
  const int = (k: keyof ScrubSettings, min: number, max: number) => {
    const v = next[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) problems.push(`${k}: a number from ${min} to ${max}`);
  };
  int('cycleDays', 1, 3650);
  int('rateMBps', 0, 100_000);
  int('quarantineDays', 1, 3650);
  int('sliceFiles', 1, 100_000);
  int('sliceMB', 1, 10_000_000);
  for (const k of ['quietStart', 'quietEnd'] as const) {
    const v = next[k];
    if (v !== null && (typeof v !== 'string' || !HHMM.test(v))) problems.push(`${k}: "HH:MM" or null`);
  }
  if ((next.quietStart === null) !== (next.quietEnd === null)) problems.push('quietStart, quietEnd: both or neither');
  if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'Invalid scrub settings', problems);
  return next;
}

/** Whether `now` (server time zone) falls in the quiet hours (a window may span midnight). */
export function inQuietHours(s: Pick<ScrubSettings, 'quietStart' | 'quietEnd'>, now = new Date()): boolean {
  if (!s.quietStart || !s.quietEnd) return false;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const t = now.getHours() * 60 + now.getMinutes();
  const [a, b] = [minutes(s.quietStart), minutes(s.quietEnd)];
  return a <= b ? t >= a && t < b : t >= a || t < b;
}

/**
 * A steady I/O cap with no burst: after `n` bytes in all, the reader waits until n / rate seconds
 * have passed since the pacer started. Shared by the reads of both volumes.
 */
export class RatePacer {
  private bytes = 0;
  private readonly start = Date.now();

  constructor(private readonly bytesPerSecond: number | null) {}

  readonly take = async (n: number): Promise<void> => {
    if (!this.bytesPerSecond) return;
    this.bytes += n;
    const due = this.start + (this.bytes / this.bytesPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}
