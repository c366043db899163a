import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobQueue, type JobQueueStatus } from '@studiovault/jobs';
import { VolumesService } from '@studiovault/volumes';

export interface VolumeHealth {
  role: string;
  state: 'online' | 'offline' | 'full';
  /** Why it is offline (marker missing, root missing, device changed, no answer); null when online. */
  reason: string | null;
  freeBytes: number | null;
  totalBytes: number | null;
}

export interface Health {
  /** ok; degraded: serving, but something needs a person (a volume offline or full, the job queue away); error: the database is down. */
  status: 'ok' | 'degraded' | 'error';
  problems: string[];
  database: { status: 'up' | 'down'; message?: string };
  volumes: VolumeHealth[];
  jobs: JobQueueStatus;
  checkedAt: string;
}

/**
 * A check that does not answer in time is an answer ("no answer within 1.5 s": a hung NFS mount).
 * The database, then the volumes, with the queue alongside: within 3 s, under the probes' 4-5 s.
 */
const CHECK_TIMEOUT_MS = 1500;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * What the readiness check and the metrics report: the database, each volume checked now (its
 * identity marker and device, read-only: nothing is recorded), free space, and the job queue.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly db: DataSource,
    private readonly volumesService: VolumesService,
    private readonly queue: JobQueue,
  ) {}

  async volumes(): Promise<VolumeHealth[]> {
    const all = await this.volumesService.list();
    return Promise.all(
      all.map(async (v): Promise<VolumeHealth> => {
        try {
          const id = await withTimeout(this.volumesService.identify(v), `the ${v.role} volume`);
          if (!id.ok) return { role: v.role, state: 'offline', reason: id.reason, freeBytes: null, totalBytes: null };
          return {
            role: v.role,
            state: id.probe.freeBytes === 0n ? 'full' : 'online',
            reason: null,
            freeBytes: Number(id.probe.freeBytes),
            totalBytes: Number(id.probe.totalBytes),
          };
        } catch (err) {
          return { role: v.role, state: 'offline', reason: (err as Error).message, freeBytes: null, totalBytes: null };
        }
      }),
    );
  }

  async check(): Promise<Health> {
    const problems: string[] = [];
    const jobsStatus = withTimeout(this.queue.status(), 'the job queue').catch((err: Error): JobQueueStatus => ({
      started: true,
      role: null,
      reachable: false,
      queued: null,
      oldestQueuedSeconds: null,
      message: err.message,
    }));
    let database: Health['database'] = { status: 'up' };
    try {
      await withTimeout(this.db.query('SELECT 1'), 'the database');
    } catch (err) {
      database = { status: 'down', message: (err as Error).message };
      problems.push(`database down: ${(err as Error).message}`);
    }
    let volumes: VolumeHealth[] = [];
    if (database.status === 'up') {
      try {
        volumes = await this.volumes();
      } catch (err) {
        problems.push(`volumes not checked: ${(err as Error).message}`);
      }
    }
    for (const v of volumes) {
      if (v.state === 'offline') problems.push(`${v.role} volume offline: ${v.reason}`);
      if (v.state === 'full') problems.push(`${v.role} volume full`);
    }
    const jobs = await jobsStatus;
    if (!jobs.started) problems.push('job queue not started');
    else if (!jobs.reachable) problems.push(`job queue unreachable: ${jobs.message ?? 'no answer'}`);
    const status = database.status === 'down' ? 'error' : problems.length ? 'degraded' : 'ok';
    return { status, problems, database, volumes, jobs, checkedAt: new Date().toISOString() };
  }
}
