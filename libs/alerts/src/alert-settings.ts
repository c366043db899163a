import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

/** The admin's thresholds for what counts as a problem. */
export interface AlertSettings {
  /** A volume with less free space than this (or than the largest card of the last 30 days) is low. */
  lowSpaceGb: number;
  /** A target that stays unreachable (its run retrying) this long is failing. */
  targetDownMinutes: number;
  /** Files verified locally but without an off-site copy after this many hours. */
  offsiteLagHours: number;
  /** No passed restore drill within this many days (once off-site copies are that old) is overdue. */
  drillOverdueDays: number;
  /** A removable drive not plugged in for this many days gets a reminder. */
  driveReminderDays: number;
  /** Hour (UTC, 0-23) the daily digest goes out, for channels that take the digest. */
  digestHourUtc: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  lowSpaceGb: 10,
  targetDownMinutes: 60,
  offsiteLagHours: 24,
  drillOverdueDays: 35,
  driveReminderDays: 30,
  digestHourUtc: 7,
};

const LIMITS: Record<keyof AlertSettings, [number, number]> = {
  lowSpaceGb: [0, 1_000_000],
  targetDownMinutes: [1, 7 * 24 * 60],
  offsiteLagHours: [1, 24 * 365],
  drillOverdueDays: [1, 3650],
  driveReminderDays: [1, 3650],
  digestHourUtc: [0, 23],
};

/** The settings merged over the stored ones, each checked against its range. */
export function validateAlertSettings(current: AlertSettings, input: Partial<Record<keyof AlertSettings, unknown>>): AlertSettings {
  const problems: string[] = [];
  const next = { ...current };
  for (const [key, [min, max]] of Object.entries(LIMITS) as [keyof AlertSettings, [number, number]][]) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (key !== 'lowSpaceGb' && !Number.isInteger(v)))
      problems.push(`${key}: a number from ${min} to ${max}`);
    else next[key] = v;
  }
  if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'Invalid alert settings', problems);
  return next;
}
