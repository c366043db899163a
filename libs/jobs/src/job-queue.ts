import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
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
  /** Seconds between heartbeats of a process that runs jobs (default 10). */
  heartbeatSeconds?: number;
  /** A process whose heartbeat is older than this is dead: its jobs are queued again (default 45). */
  deadAfterSeconds?: number;
  /** Seconds between sweeps for jobs of dead processes (default 20). */
  sweepSeconds?: number;
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

/** Ids of the job queues of this very process that run jobs (a sibling's row is alive, not dead). */
const LOCAL_WORKERS = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type JobHandler = (data: unknown, meta: { id: string; retryCount: number }) => Promise<unknown>;

/**
 * The job queue: pg-boss in the catalog's Postgres (no extra broker on a NAS). Postgres'
 * SKIP LOCKED guarantees one job goes to one worker. Each process that runs jobs records a
 * heartbeat row and the jobs it claimed; a sweep (at start and every ~20 s) queues again the
 * active jobs of a process without a heartbeat for 45 s (or, on this host, whose pid is gone),
 * so a crash leaves no job "active" until its expiry.
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
  /** This process's heartbeat row and the jobs it runs now (job id → queue). */
  private readonly workerId = randomUUID();
  private readonly claims = new Map<string, JobName>();
  private heartbeat?: Promise<void>;
  private timers: NodeJS.Timeout[] = [];

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
    if (this.boss && this.role)
      listener(this.role).catch((err: Error) => this.log.error(`job queue: start listener failed: ${err.message}`));
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
    await this.startHeartbeat(boss);
    for (let i = 0; i < concurrency; i++) this.slots.push(this.runSlot(boss, name, pollMs, handler, this.halt.signal));
  }

  private get schema(): string {
    return this.options.schema ?? 'pgboss';
  }

  /**
   * Once per process that runs jobs: the tables of heartbeats and claims (in the queue's schema,
   * beside pg-boss's own), this process's row, a heartbeat timer and the sweep (now and on a timer).
   */
  private startHeartbeat(boss: PgBoss): Promise<void> {
    this.heartbeat ??= (async () => {
      const db = boss.getDb();
      const s = this.schema;
      await db.executeSql(
        `BEGIN;
         SELECT pg_advisory_xact_lock(hashtextextended('studiovault:job-heartbeat-tables', 0));
         CREATE TABLE IF NOT EXISTS ${s}.sv_worker (id uuid PRIMARY KEY, host text NOT NULL, pid integer NOT NULL,
           started_on timestamptz NOT NULL DEFAULT now(), beat_on timestamptz NOT NULL DEFAULT now());
         CREATE TABLE IF NOT EXISTS ${s}.sv_claim (job_id uuid PRIMARY KEY, name text NOT NULL, worker_id uuid NOT NULL,
           claimed_on timestamptz NOT NULL DEFAULT now());
         COMMIT;`,
        undefined as unknown as unknown[], // no parameters: several statements in one simple query
      );
      LOCAL_WORKERS.add(this.workerId);
      await this.beat();
      await this.sweep().catch((err: Error) => this.log.warn(`job queue: sweep failed: ${err.message}`));
      const every = (seconds: number, fn: () => Promise<unknown>) => {
        let running = false;
        const timer = setInterval(() => {
          if (running) return;
          running = true;
          fn()
            .catch((err: Error) => this.log.warn(`job queue: ${err.message}`))
            .finally(() => (running = false));
        }, seconds * 1000);
        timer.unref();
        this.timers.push(timer);
      };
      every(this.options.heartbeatSeconds ?? 10, () => this.beat());
      every(this.options.sweepSeconds ?? 20, () => this.sweep());
    })();
    return this.heartbeat;
  }

  /** Records that this process is alive, and the jobs it runs (claims a failed insert left out; none it finished). */
  private async beat(): Promise<void> {
    const db = this.boss?.getDb();
    if (!db) return;
    const s = this.schema;
    await db.executeSql(`INSERT INTO ${s}.sv_worker (id, host, pid) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET beat_on = now()`, [
      this.workerId,
      hostname(),
      process.pid,
    ]);
    const ids = [...this.claims.keys()];
    const names = ids.map((id) => this.claims.get(id)!);
    await db.executeSql(
      `INSERT INTO ${s}.sv_claim (job_id, name, worker_id) SELECT * FROM UNNEST($1::uuid[], $2::text[]) AS c(job_id, name), (SELECT $3::uuid) w
       ON CONFLICT (job_id) DO UPDATE SET worker_id = EXCLUDED.worker_id`,
      [ids, names, this.workerId],
    );
    await db.executeSql(`DELETE FROM ${s}.sv_claim WHERE worker_id = $1 AND NOT (job_id = ANY($2::uuid[]))`, [this.workerId, ids]);
  }

  /**
   * Queues again (pg-boss fail: retried with its backoff, or failed when out of retries) the jobs
   * claimed by processes that are dead: no heartbeat for `deadAfterSeconds`, or on this host a pid
   * that is gone (a restarted server finds its killed predecessor's jobs at once), or no row; and
   * active jobs that no process has claimed for longer than a dead process's heartbeat.
   */
  async sweep(): Promise<number> {
    const boss = this.boss;
    if (!boss) return 0;
    const db = boss.getDb();
    const s = this.schema;
    const workers = (
      await db.executeSql(`SELECT id, host, pid, beat_on < now() - make_interval(secs => $2) AS stale FROM ${s}.sv_worker WHERE id <> $1`, [
        this.workerId,
        this.options.deadAfterSeconds ?? 45,
      ])
    ).rows as { id: string; host: string; pid: number; stale: boolean }[];
    const here = hostname();
    const dead = workers
      .filter((w) => w.stale || (w.host === here && (w.pid === process.pid ? !LOCAL_WORKERS.has(w.id) : !processAlive(w.pid))))
      .map((w) => w.id);
    const orphans = (
      await db.executeSql(
        `SELECT c.job_id, c.name FROM ${s}.sv_claim c LEFT JOIN ${s}.sv_worker w ON w.id = c.worker_id
          WHERE w.id IS NULL OR c.worker_id = ANY($1::uuid[])`,
        [dead],
      )
    ).rows as { job_id: string; name: JobName }[];
    // Active jobs nobody claims: a process died between its fetch and its claim, or the
    // database went away as it answered the fetch. (A live process records a claim that failed
    // at its next heartbeat; this process beats first, and the margin covers the others.)
    await this.beat();
    const unclaimed = (
      await db.executeSql(
        `SELECT j.id AS job_id, j.name FROM ${s}.job j
          WHERE j.name = ANY($2::text[]) AND j.state = 'active' AND j.started_on < now() - make_interval(secs => $1)
            AND NOT EXISTS (SELECT 1 FROM ${s}.sv_claim c WHERE c.job_id = j.id)`,
        [(this.options.deadAfterSeconds ?? 45) + 3 * (this.options.heartbeatSeconds ?? 10), Object.values(JobName)],
      )
    ).rows as { job_id: string; name: JobName }[];
    orphans.push(...unclaimed);
    for (const o of orphans) {
      if (this.claims.has(o.job_id)) continue; // ours after all (our row was swept during an outage)
      await boss.fail(o.name, o.job_id, { message: 'the process running this job stopped; queued again' });
      await db.executeSql(`DELETE FROM ${s}.sv_claim WHERE job_id = $1`, [o.job_id]);
      this.log.warn(`job ${o.name} ${o.job_id}: the process running it stopped; queued again`);
      this.wake(o.name);
    }
    if (dead.length) await db.executeSql(`DELETE FROM ${s}.sv_worker WHERE id = ANY($1::uuid[])`, [dead]);
    return orphans.length;
  }

  /** Records this process's claim of a job at once (the heartbeat records it when this fails). */
  private async claim(boss: PgBoss, name: JobName, id: string): Promise<void> {
    this.claims.set(id, name);
    await boss
      .getDb()
      .executeSql(`INSERT INTO ${this.schema}.sv_claim (job_id, name, worker_id) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING`, [
        id,
        name,
        this.workerId,
      ])
      .catch(() => undefined);
  }

  private async release(boss: PgBoss, id: string): Promise<void> {
    this.claims.delete(id);
    await boss
      .getDb()
      .executeSql(`DELETE FROM ${this.schema}.sv_claim WHERE job_id = $1`, [id])
      .catch(() => undefined); // the heartbeat removes it
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
      await this.claim(boss, name, job.id);
      let result: unknown;
      let failure: Error | undefined;
      try {
        result = await handler(job.data, { id: job.id, retryCount });
        this.log.debug(`job ${name} ${job.id} done in ${Date.now() - started} ms`);
      } catch (err) {
        failure = err as Error;
        this.log.warn(`job ${name} ${job.id} failed: ${failure.message}`);
      }
      // Recorded once the database answers (it may be restarting): until then the claim stays,
      // so the job is neither lost nor run again while this process lives.
      for (let attempt = 0; ; attempt++) {
        try {
          if (failure) await boss.fail(name, job.id, { message: failure.message });
          else await boss.complete(name, job.id, result as object | undefined);
          break;
        } catch (err) {
          if (halt.aborted || attempt >= 30) {
            this.log.warn(`job ${name} ${job.id}: cannot record its end (${(err as Error).message}); it is queued again`);
            break;
          }
          await this.sleep(name, 2000, halt);
        }
      }
      await this.release(boss, job.id);
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
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.heartbeat) {
      await this.heartbeat.catch(() => undefined);
      // Our row goes; claims of jobs still running stay, so the next sweep queues them again at once.
      await boss
        .getDb()
        .executeSql(`DELETE FROM ${this.schema}.sv_worker WHERE id = $1`, [this.workerId])
        .catch(() => undefined);
      LOCAL_WORKERS.delete(this.workerId);
      this.heartbeat = undefined;
    }
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
