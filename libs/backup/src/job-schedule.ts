import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';
import { JobName, JobQueue } from '@studiovault/jobs';

/**
 * Applies a schedule the admin set (the nightly backup, the monthly drill) to its job; a cron the
 * queue refuses (e.g. "99 99 * * *") becomes a validation error naming the schedule.
 */
export async function applyJobSchedule(queue: JobQueue, job: JobName, schedule: string, timezone: string, what: string): Promise<void> {
  try {
    await queue.schedule(job, schedule, timezone);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError(ErrorCode.ValidationFailed, `Invalid ${what} schedule: ${message}`, [`schedule: ${message}`]);
  }
}
