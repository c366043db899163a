/** Every job StudioVault runs. Each must have exactly one handler (checked at worker start-up). */
export enum JobName {
  SessionsPurge = 'sessions.purge',
  VolumesCheck = 'volumes.check',
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
  [JobName.SessionsPurge]: { policy: 'stately', retryLimit: 3, retryDelaySeconds: 30, retryBackoff: true, expireInSeconds: 300, cron: '17 * * * *' },
  [JobName.VolumesCheck]: { policy: 'stately', retryLimit: 2, retryDelaySeconds: 10, retryBackoff: true, expireInSeconds: 120, cron: '*/5 * * * *' },
};
