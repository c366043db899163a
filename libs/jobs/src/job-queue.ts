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

export interface JobQueueStatus {
  started: boolean;
  role: 'producer' | 'worker' | null;
  reachable: boolean;
  /** Jobs due now and not yet taken by a worker. */
  queued: number | null;
  oldestQueuedSeconds: number | null;
  message?: string;
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
  private stopping = false;
  /** Our fetch loops (see work), their wake-ups, and what ends them. */
  private slots: Promise<void>[] = [];
  private readonly sleepers = new Map<JobName, Set<() => void>>();
  private halt = new AbortController();
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
    if (id && !options.startAfterSeconds) this.wake(name);
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
   * Runs `handler` for jobs of `name`, `concurrency` at a time. Each slot is a loop of ours over
   * pg-boss's fetch/complete/fail rather than pg-boss's own workers, so that stopping the queue
   * can wait for exactly these loops to end (pg-boss's workers are removed by a timer loop of
   * its own that outlives its stop). A slot sleeps for the polling interval when the queue is
   * empty, and `send` wakes it at once.
   */
  async work(name: JobName, concurrency: number, handler: JobHandler): Promise<void> {
    const boss = await this.ready();
    const pollMs = (this.options.pollingIntervalSeconds ?? 2) * 1000;
    for (let i = 0; i < concurrency; i++) this.slots.push(this.runSlot(boss, name, pollMs, handler, this.halt.signal));
  }

  private async runSlot(boss: PgBoss, name: JobName, pollMs: number, handler: JobHandler, halt: AbortSignal): Promise<void> {
    while (!halt.aborted) {
      let job: PgBoss.Job<object> | undefined;
      try {
        [job] = await boss.fetch<object>(name, { batchSize: 1, includeMetadata: true });
      } catch (err) {
        if (!halt.aborted) this.log.warn(`job queue: fetching ${name} failed: ${(err as Error).message}`);
      }
      if (!job) {
        await this.sleep(name, pollMs, halt);
        continue;
      }
      const started = Date.now();
      const retryCount = (job as unknown as { retryCount?: number }).retryCount ?? 0;
      try {
        const result = await handler(job.data, { id: job.id, retryCount });
        this.log.debug(`job ${name} ${job.id} done in ${Date.now() - started} ms`);
        await boss.complete(name, job.id, result as object | undefined);
      } catch (err) {
        this.log.warn(`job ${name} ${job.id} failed: ${(err as Error).message}`);
        // Unrecorded (the database away): the job expires and is retried like a crashed one.
        await boss.fail(name, job.id, { message: (err as Error).message }).catch(() => undefined);
      }
    }
  }

  /** Waits `ms`, or less when a job of `name` is sent or the queue stops. */
  private sleep(name: JobName, ms: number, halt: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const sleepers = this.sleepers.get(name) ?? new Set<() => void>();
      this.sleepers.set(name, sleepers);
      const done = () => {
        clearTimeout(timer);
        halt.removeEventListener('abort', done);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      halt.addEventListener('abort', done);
      sleepers.add(done);
    });
  }

  private wake(name: JobName): void {
    for (const wake of [...(this.sleepers.get(name) ?? [])]) wake();
  }

  /**
   * For health checks: started (and as what), its tables reachable, and the jobs waiting to run
   * now (not those scheduled later) with the age of the oldest. Never throws.
   */
  async status(): Promise<JobQueueStatus> {
    const boss = this.boss;
    const started = Boolean(boss) && !this.stopping;
    if (!boss || !started)
      return { started: false, role: null, reachable: false, queued: null, oldestQueuedSeconds: null, message: 'not started' };
    try {
      const schema = this.options.schema ?? 'pgboss';
      const { rows } = await boss.getDb().executeSql(
        `SELECT count(*)::int AS queued, extract(epoch FROM now() - min(start_after))::float8 AS oldest
             FROM "${schema.replace(/"/g, '""')}".job WHERE state IN ('created','retry') AND start_after <= now()`,
        [],
      );
      const oldest = rows[0]?.oldest;
      return {
        started: true,
        role: this.role ?? null,
        reachable: true,
        queued: rows[0]?.queued ?? 0,
        oldestQueuedSeconds: oldest === null || oldest === undefined ? null : Math.max(0, Math.round(Number(oldest))),
      };
    } catch (err) {
      return {
        started: true,
        role: this.role ?? null,
        reachable: false,
        queued: null,
        oldestQueuedSeconds: null,
        message: (err as Error).message,
      };
    }
  }

  async getJob(name: JobName, id: string) {
    const boss = await this.ready();
    return boss.getJobById(name, id);
  }

  /** Closing the application stops the queue (main stops it earlier, with a longer grace). */
  onApplicationShutdown(): Promise<void> {
    return this.stop(10_000);
  }

  /**
   * Stops fetching, waits up to `timeoutMs` for the jobs running now to finish, then stops
   * pg-boss. A job still running then is left to expire and be retried by another worker.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    const boss = this.boss;
    if (!boss) return;
    this.stopping = true;
    this.halt.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.slots), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await boss.stop({ graceful: false, wait: true, close: true });
    this.boss = undefined;
    this.started = undefined;
    this.notifiedRole = undefined;
    this.slots = [];
    this.sleepers.clear();
    this.halt = new AbortController();
  }

  private async ready(): Promise<PgBoss> {
    if (!this.started) throw new Error('The job queue is not started');
    await this.started;
    return this.boss!;
  }
}
