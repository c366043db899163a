import { fork, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import PgBoss from 'pg-boss';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { JobName } from './job-names';
import { JobQueue } from './job-queue';

const FAST = { maintenanceIntervalSeconds: 1, pollingIntervalSeconds: 0.5 };

async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

describe('job queue (pg-boss in the catalog Postgres)', () => {
  let db: TestDatabase;
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('CREATE TABLE runs (job_id text, worker text, at timestamptz DEFAULT now())');
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });

  it('two workers never run one job twice', async () => {
    const producer = new JobQueue({ connectionString: db.url, ...FAST, definitions: { [JobName.VolumesCheck]: { policy: 'standard' } } });
    await producer.start('producer');
    const workers = ['a', 'b'].map((w) => ({
      w,
      q: new JobQueue({ connectionString: db.url, ...FAST, definitions: { [JobName.VolumesCheck]: { policy: 'standard' } } }),
    }));
    for (const { w, q } of workers) {
      await q.start('producer'); // no cron in this test
      await q.work(JobName.VolumesCheck, 3, async (_data, meta) => {
        await pg.query('INSERT INTO runs (job_id, worker) VALUES ($1, $2)', [meta.id, w]);
        await new Promise((r) => setTimeout(r, 20));
      });
    }
    const ids = await Promise.all(Array.from({ length: 40 }, () => producer.send(JobName.VolumesCheck, {})));
    expect(ids.every(Boolean)).toBe(true);
    await waitFor(async () => (await pg.query('SELECT count(*)::int n FROM runs')).rows[0].n >= 40);
    await new Promise((r) => setTimeout(r, 1000));
    const runs = await pg.query('SELECT job_id, count(*)::int n FROM runs GROUP BY job_id');
    expect(runs.rowCount).toBe(40);
    expect(runs.rows.every((r) => r.n === 1)).toBe(true);
    const byWorker = await pg.query('SELECT DISTINCT worker FROM runs');
    expect(byWorker.rowCount).toBe(2);
    await Promise.all([producer.stop(5000), ...workers.map(({ q }) => q.stop(5000))]);
    await pg.query('TRUNCATE runs');
  }, 60_000);

  it('runs a backlog back to back, not one job per polling interval', async () => {
    const q = new JobQueue({
      connectionString: db.url,
      maintenanceIntervalSeconds: 1,
      pollingIntervalSeconds: 2,
      definitions: { [JobName.VolumesCheck]: { policy: 'standard' } },
    });
    await q.start('producer');
    let done = 0;
    await q.work(JobName.VolumesCheck, 1, async () => {
      done++;
    });
    await Promise.all(Array.from({ length: 30 }, () => q.send(JobName.VolumesCheck, {})));
    const t0 = Date.now();
    await waitFor(async () => done >= 30);
    // 30 jobs with a 2 s polling interval would take a minute if each waited for the next poll.
    expect(Date.now() - t0).toBeLessThan(10_000);
    await q.stop(2000);
  }, 60_000);

  it('a stately job is queued once while one is waiting (cron ticks do not pile up)', async () => {
    const q = new JobQueue({ connectionString: db.url, ...FAST });
    await q.start('producer');
    const first = await q.send(JobName.SessionsPurge, {});
    const second = await q.send(JobName.SessionsPurge, {});
    expect(first).toBeTruthy();
    expect(second).toBeNull();
    await q.stop(1000);
  });

  it('a job whose worker process was killed mid-job runs again on another worker', async () => {
    const defs = {
      [JobName.VolumesCheck]: { policy: 'standard' as const, expireInSeconds: 2, retryDelaySeconds: 1, retryBackoff: false, retryLimit: 3 },
    };
    const producer = new JobQueue({ connectionString: db.url, ...FAST, definitions: defs });
    await producer.start('producer');
    const id = (await producer.send(JobName.VolumesCheck, { crash: true }))!;
    // A worker in another process takes the job, records it, then is SIGKILLed mid-job.
    const child = fork(join(__dirname, 'testing/crashing-worker.js'), [db.url], { stdio: 'pipe' });
    await waitFor(async () => (await pg.query(`SELECT 1 FROM runs WHERE worker = 'doomed'`)).rowCount === 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const survivor = new JobQueue({ connectionString: db.url, ...FAST, definitions: defs });
    await survivor.start('worker');
    await survivor.work(JobName.VolumesCheck, 1, async (_d, meta) => {
      await pg.query('INSERT INTO runs (job_id, worker) VALUES ($1, $2)', [meta.id, 'survivor']);
    });
    await waitFor(async () => (await pg.query(`SELECT 1 FROM runs WHERE worker = 'survivor'`)).rowCount === 1, 40_000);
    const rows = await pg.query('SELECT job_id, worker FROM runs ORDER BY at');
    expect(rows.rows.map((r) => r.worker)).toEqual(['doomed', 'survivor']);
    expect(new Set(rows.rows.map((r) => r.job_id))).toEqual(new Set([id]));
    const job = await survivor.getJob(JobName.VolumesCheck, id);
    await waitFor(async () => (await survivor.getJob(JobName.VolumesCheck, id))?.state === 'completed');
    expect(job).toBeTruthy();
    await survivor.stop(5000);
    await producer.stop(1000);
  }, 90_000);

  it('jobs claimed by a dead process run again at the next sweep, not after their expiry', async () => {
    // An hour's expiry: only the heartbeat sweep can bring these jobs back within the test.
    const defs = {
      [JobName.VolumesCheck]: {
        policy: 'standard' as const,
        expireInSeconds: 3600,
        retryDelaySeconds: 1,
        retryBackoff: false,
        retryLimit: 3,
      },
    };
    const producer = new JobQueue({ connectionString: db.url, ...FAST, definitions: defs });
    await producer.start('producer');
    const ids = [(await producer.send(JobName.VolumesCheck, { n: 1 }))!, (await producer.send(JobName.VolumesCheck, { n: 2 }))!];
    // Two processes took one job each and died: one on another host whose heartbeat is a minute
    // old, one on this host (a fresh heartbeat, but its pid is gone).
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
    await boss.start();
    const taken = await boss.fetch(JobName.VolumesCheck, { batchSize: 2 });
    expect(taken.map((j) => j.id).sort()).toEqual([...ids].sort());
    const gonePid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    // The tables exist once a process runs jobs.
    const bystander = new JobQueue({ connectionString: db.url, ...FAST, definitions: defs, sweepSeconds: 3600 });
    await bystander.start('producer');
    await bystander.work(JobName.SessionsPurge, 1, async () => undefined);
    await pg.query(
      `INSERT INTO pgboss.sv_worker (id, host, pid, beat_on) VALUES
         ('00000000-0000-4000-8000-000000000001', 'another-nas', 4242, now() - interval '60 seconds'),
         ('00000000-0000-4000-8000-000000000002', $1, $2, now())`,
      [hostname(), Number(gonePid)],
    );
    await pg.query(
      `INSERT INTO pgboss.sv_claim (job_id, name, worker_id) VALUES ($1, 'volumes.check', '00000000-0000-4000-8000-000000000001'),
                                                                ($2, 'volumes.check', '00000000-0000-4000-8000-000000000002')`,
      [taken[0].id, taken[1].id],
    );
    await boss.stop({ graceful: false, close: true });

    const t0 = Date.now();
    const survivor = new JobQueue({ connectionString: db.url, ...FAST, definitions: defs });
    await survivor.start('producer');
    const ran: string[] = [];
    await survivor.work(JobName.VolumesCheck, 2, async (_d, meta) => {
      ran.push(meta.id);
    });
    await waitFor(async () => ran.length >= 2, 20_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect([...ran].sort()).toEqual([...ids].sort());
    await waitFor(async () => (await pg.query(`SELECT count(*)::int n FROM pgboss.sv_claim`)).rows[0].n === 0);
    // The dead processes' rows are gone; the live ones stay.
    const workers = (await pg.query(`SELECT id FROM pgboss.sv_worker`)).rows.map((r) => r.id);
    expect(workers).not.toContain('00000000-0000-4000-8000-000000000001');
    expect(workers).not.toContain('00000000-0000-4000-8000-000000000002');
    expect(workers).toHaveLength(2);
    await survivor.stop(2000);
    await bystander.stop(2000);
    await producer.stop(1000);
  }, 60_000);
});
