/** Every job StudioVault runs. Each must have exactly one handler (checked at worker start-up). */
export enum JobName {
  SessionsPurge = 'sessions.purge',
  VolumesCheck = 'volumes.check',
  /** Re-read an asset's local copies from their devices and compare with the source hash. */
  AssetsVerify = 'assets.verify',
  /** After a card's files are verified: write its ASC MHL generation on both volumes. */
  CardsSeal = 'cards.seal',
  /** Copy files that are missing on a volume (the mirror was offline) and verify them. */
  CopiesRepair = 'copies.repair',
  /** Remove uploads abandoned for longer than the tus expiration (7 days), with their staged bytes. */
  UploadsExpire = 'uploads.expire',
  /** One backup run to one off-site target (a slice of it: a long run re-queues itself). One at a time per target. */
  BackupRun = 'backup.run',
  /** The nightly tick (cron from the admin's backup settings): starts or resumes a run per enabled target, exports the catalog. */
  BackupNightly = 'backup.nightly',
  /** A card was sealed: start its off-site upload now, so "off-site started" can count toward "safe to format". */
  BackupCard = 'backup.card',
  /** A restore to a folder on the NAS. */
  RestoreRun = 'restore.run',
  /** A restore drill (cron from the admin's drill settings, or "run now"). */
  DrillRun = 'drill.run',
  /** A retention policy was lengthened: extend the locks of the copies it covers. */
  RetentionExtend = 'retention.extend',
  /** A project's legal hold changed: set or clear S3 legal hold on its off-site objects. */
  LegalHoldApply = 'legalhold.apply',
  /** The admin confirmed an expiry preview: remove what it listed, re-checking every guard rail. */
  ExpiryApply = 'expiry.apply',
  /** Detect problems (raise and clear), check removable drives, send due alerts and digests. */
  AlertsCheck = 'alerts.check',
  /** One slice of a scrub pass: re-read local copies from their devices and compare with the source hash. */
  ScrubRun = 'scrub.run',
  /** Rewrite a damaged or missing local copy from a good one (the other volume, else off-site). */
  CopiesHeal = 'copies.heal',
  /** Delete quarantined damaged bytes older than the admin's quarantine days (audited). */
  QuarantinePurge = 'quarantine.purge',
}

export interface JobDefinition {
  /**
   * pg-boss queue policy. singleton: at most one active; stately: at most one queued and
   * one active (a cron tick while one waits adds nothing).
   */
  policy: 'standard' | 'singleton' | 'stately';
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  /** A job still active after this is considered crashed and is retried. */
  expireInSeconds: number;
  /** Cron schedule (UTC), when the job also runs by itself. */
  cron?: string;
}

export const JOB_DEFINITIONS: Record<JobName, JobDefinition> = {
  [JobName.SessionsPurge]: {
    policy: 'stately',
    retryLimit: 3,
    retryDelaySeconds: 30,
    retryBackoff: true,
    expireInSeconds: 300,
    cron: '17 * * * *',
  },
  [JobName.VolumesCheck]: {
    policy: 'stately',
    retryLimit: 2,
    retryDelaySeconds: 10,
    retryBackoff: true,
    expireInSeconds: 120,
    // A backstop: the process running jobs also queues a check every STUDIOVAULT_VOLUME_CHECK_SECONDS (30 s).
    cron: '* * * * *',
  },
  // A 1 GiB video re-read twice from HDD takes ~10 s; allow for slow pools.
  [JobName.AssetsVerify]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 1800 },
  [JobName.CardsSeal]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 600 },
  [JobName.UploadsExpire]: {
    policy: 'stately',
    retryLimit: 2,
    retryDelaySeconds: 60,
    retryBackoff: true,
    expireInSeconds: 600,
    cron: '23 3 * * *',
  },
  // A slice of a run lasts at most ~20 minutes (then the run re-queues itself); a crashed one is retried after an hour.
  // Standard, not stately: a job left "active" by a killed worker must not block the restarted worker's job; one
  // runner per target is a Postgres advisory lock (held by the connection, so it dies with the process).
  [JobName.BackupRun]: { policy: 'standard', retryLimit: 8, retryDelaySeconds: 30, retryBackoff: true, expireInSeconds: 3600 },
  // No static cron: BackupService schedules it from the admin's settings.
  [JobName.BackupNightly]: { policy: 'stately', retryLimit: 3, retryDelaySeconds: 60, retryBackoff: true, expireInSeconds: 600 },
  [JobName.BackupCard]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 10, retryBackoff: true, expireInSeconds: 300 },
  [JobName.RestoreRun]: { policy: 'standard', retryLimit: 0, retryDelaySeconds: 10, retryBackoff: false, expireInSeconds: 6 * 3600 },
  // No static cron: DrillService schedules it from the admin's settings.
  [JobName.DrillRun]: { policy: 'singleton', retryLimit: 0, retryDelaySeconds: 60, retryBackoff: false, expireInSeconds: 6 * 3600 },
  [JobName.RetentionExtend]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 60, retryBackoff: true, expireInSeconds: 6 * 3600 },
  [JobName.LegalHoldApply]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 30, retryBackoff: true, expireInSeconds: 6 * 3600 },
  [JobName.ExpiryApply]: { policy: 'singleton', retryLimit: 0, retryDelaySeconds: 60, retryBackoff: false, expireInSeconds: 6 * 3600 },
  [JobName.AlertsCheck]: {
    policy: 'stately',
    retryLimit: 1,
    retryDelaySeconds: 10,
    retryBackoff: false,
    expireInSeconds: 300,
    // A backstop: the process running jobs also runs a pass every STUDIOVAULT_ALERT_CHECK_SECONDS (30 s).
    cron: '* * * * *',
  },
  // The cron is the background tick: it continues a running pass or starts one when copies are due; a slice re-queues the next.
  [JobName.ScrubRun]: {
    policy: 'stately',
    retryLimit: 3,
    retryDelaySeconds: 30,
    retryBackoff: true,
    expireInSeconds: 3600,
    cron: '*/5 * * * *',
  },
  [JobName.CopiesHeal]: { policy: 'standard', retryLimit: 5, retryDelaySeconds: 30, retryBackoff: true, expireInSeconds: 3600 },
  [JobName.QuarantinePurge]: {
    policy: 'stately',
    retryLimit: 2,
    retryDelaySeconds: 60,
    retryBackoff: true,
    expireInSeconds: 600,
    cron: '41 4 * * *',
  },
  [JobName.CopiesRepair]: { policy: 'stately', retryLimit: 3, retryDelaySeconds: 30, retryBackoff: true, expireInSeconds: 3600 },
};
