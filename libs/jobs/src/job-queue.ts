import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { JOB_DEFINITIONS, JobName } from './job-names';

export const JOB_QUEUE_OPTIONS = Symbol('JOB_QUEUE_OPTIONS');

export interface JobQueueOptions {
  connectionString: string;
  /** Postgres schema of the queue tables. */
  schema?: string;
  /** Seconds between maintenance passes (expiry of crashed jobs, retention). */
  maintenanceIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
  /** Override definitions, for tests. */
  definitions?: Partial<Record<JobName, Partial<(typeof JOB_DEFINITIONS)[JobName]>>>;
}

export type JobHandler = (data: unknown, meta: { id: string; retryCount: number }) => Promise<unknown>;

/**
 * The job queue: pg-boss in the catalog's Postgres (no extra broker on a NAS). Postgres'
 * SKIP LOCKED guarantees one job goes to one worker; a job whose worker died is expired
 * and retried with backoff.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private readonly log = new Logger(JobQueue.name);
  private boss?: PgBoss;
  private started?: Promise<void>;
  private working = false;
  private stopping = false;
  /** Job handlers running now, and when the last one ended (see stop). */
  private running = 0;
  private lastJobEnded = 0;
  private readonly workers = new Map<JobName, string[]>();
  private readonly startListeners: ((role: 'producer' | 'worker') => Promise<void>)[] = [];
  private role?: 'producer' | 'worker';
  private notifiedRole?: 'producer' | 'worker';

  constructor(@Inject(JOB_QUEUE_OPTIONS) private readonly options: JobQueueOptions) {}

  definition(name: JobName) {
    return { ...JOB_DEFINITIONS[name], ...(this.options.definitions?.[name] ?? {}) };
  }

  /** Connects and creates the queues. `worker` also runs schedules and maintenance. */
  start(role: 'producer' | 'worker'): Promise<void> {
    this.started ??= (async () => {
      const boss = new PgBoss({
        connectionString: this.options.connectionString,
        schema: this.options.schema ?? 'pgboss',
        max: 4,
        supervise: role === 'worker',
        schedule: role === 'worker',
        migrate: true,
        maintenanceIntervalSeconds: this.options.maintenanceIntervalSeconds ?? 60,
      });
      // After stop begins, the database going away (embedded Postgres stopping next) is expected.
      this.stopping = false;
      boss.on('error', (err) =>
        this.stopping ? this.log.debug(`job queue (stopping): ${err.message}`) : this.log.error(`job queue: ${err.message}`),
      );
      await boss.start();
      for (const name of Object.values(JobName)) {
        const def = this.definition(name);
        const queue = {
          name,
          policy: def.policy,
          retryLimit: def.retryLimit,
          retryDelay: def.retryDelaySeconds,
          retryBackoff: def.retryBackoff,
          expireInSeconds: def.expireInSeconds,
        };
        if (await boss.getQueue(name)) await boss.updateQueue(name, queue);
        else await boss.createQueue(name, queue);
        if (role === 'worker' && def.cron) await boss.schedule(name, def.cron, {}, { tz: 'UTC' });
      }
      this.boss = boss;
      this.role = role;
    })();
    return this.started.then(async () => {
      if (this.notifiedRole === role) return;
      this.notifiedRole = role;
      for (const listener of this.startListeners) await listener(role);
    });
  }

  /** Queues a job; returns its id, or null when a singleton is already queued. */
  async send(
    name: JobName,
    data: object = {},
    options: { singletonKey?: string; startAfterSeconds?: number } = {},
  ): Promise<string | null> {
    const boss = await this.ready();
    const id = await boss.send(name, data, { singletonKey: options.singletonKey, startAfter: options.startAfterSeconds });
    if (id && !options.startAfterSeconds) for (const w of this.workers.get(name) ?? []) boss.notifyWorker(w);
    return id;
  }

  /** Runs after the queue starts (now, if it has): for schedules kept in settings and recovery after a crash. */
  onStarted(listener: (role: 'producer' | 'worker') => Promise<void>): void {
    this.startListeners.push(listener);
    if (this.boss && this.role) void listener(this.role);
  }

  /** Sets (or replaces) the cron schedule of a job whose schedule is a setting, not a definition. */
  async schedule(name: JobName, cron: string, tz: string): Promise<void> {
    const boss = await this.ready();
    await boss.schedule(name, cron, {}, { tz });
  }

  /**
   * Registers a handler; jobs are fetched one at a time per slot. pg-boss sleeps for the
   * polling interval after every fetch, so a slot wakes itself after each job (a backlog
   * runs back to back) and `send` wakes this process's slots of that queue.
   */
  async work(name: JobName, concurrency: number, handler: JobHandler): Promise<void> {
    const boss = await this.ready();
    this.working = true;
    const ids = this.workers.get(name) ?? [];
    for (let i = 0; i < concurrency; i++) {
      let workerId = '';
      workerId = await boss.work(
        name,
        { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
        async ([job]) => {
          const started = Date.now();
          this.running++;
          try {
            const meta = job as unknown as { id: string; retryCount?: number };
            const result = await handler(job.data, { id: meta.id, retryCount: meta.retryCount ?? 0 });
            this.log.debug(`job ${name} ${job.id} done in ${Date.now() - started} ms`);
            return result;
          } catch (err) {
            this.log.warn(`job ${name} ${job.id} failed: ${(err as Error).message}`);
            throw err;
          } finally {
            this.running--;
            this.lastJobEnded = Date.now();
            if (workerId) boss.notifyWorker(workerId);
          }
        },
      );
      ids.push(workerId);
    }
    this.workers.set(name, ids);
  }

  async getJob(name: JobName, id: string) {
    const boss = await this.ready();
    return boss.getJobById(name, id);
  }

  /** Closing the application stops the queue (main stops it earlier, with a longer grace). */
  onApplicationShutdown(): Promise<void> {
    return this.stop(10_000);
  }

  /** Waits up to `timeoutMs` for active jobs to finish; unfinished ones expire and are retried. */
  async stop(timeoutMs = 30_000, options: { settle?: boolean } = {}): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    const boss = this.boss;
    if (!boss) return;
    this.stopping = true;
    const stopStarted = Date.now();
    await new Promise<void>((resolve) => {
      boss.once('stopped', () => resolve());
      void boss.stop({ graceful: this.working, timeout: timeoutMs, wait: false });
    });
    const closedAt = Date.now();
    // pg-boss removes its stopped workers in a loop of its own, which checks them once a second
    // and loads a module each time it waits: let it see every worker stopped, so nothing of the
    // queue still runs (or loads a module) once the caller (a test file, the process) has moved
    // on. A worker stops when its job ends, or when its fetch returns; a fetch waiting for one of
    // the queue's four connections (the worker slots poll through them) can outlast a fixed
    // pause on a loaded machine, but fails at once when 'stopped' has closed the pool. So: no
    // job running, and a second and a half since the pool closed and since the last job ended.
    // A process that exits right after (main's SIGTERM path) skips it.
    if (this.working && options.settle !== false) {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const deadline = Date.now() + timeoutMs;
      const settled = () => this.running === 0 && Date.now() >= Math.max(stopStarted + 1200, closedAt + 1500, this.lastJobEnded + 1500);
      while (Date.now() < deadline && !settled()) await sleep(50);
    }
    this.boss = undefined;
    this.started = undefined;
    this.notifiedRole = undefined;
    this.workers.clear();
  }

  private async ready(): Promise<PgBoss> {
    if (!this.started) throw new Error('The job queue is not started');
    await this.started;
    return this.boss!;
  }
}
