import { DataSource } from 'typeorm';
import { JobName, JobQueue } from '@studiovault/jobs';
import { TestApp } from '@studiovault/testing';
import { startApi } from './helpers';

describe('operations: health, metrics, request ids, volumes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('health: readiness includes the database and the job queue with its oldest queued job; liveness answers', async () => {
    const ready = await t.http().get('/api/health').expect(200);
    expect(ready.body.database).toEqual({ status: 'up' });
    expect(ready.body.jobs).toMatchObject({ started: true, role: 'producer', reachable: true });
    await t.http().get('/api/health/live').expect(200, { status: 'ok' });

    // This process only queues jobs (no worker here): a queued job waits, and its age shows.
    const before = ready.body.jobs.queued as number;
    await t.app.get(JobQueue).send(JobName.VolumesCheck, {});
    const later = (await t.http().get('/api/health').expect(200)).body.jobs;
    expect(later.queued).toBe(before + 1);
    expect(later.oldestQueuedSeconds).toEqual(expect.any(Number));
    expect(later.oldestQueuedSeconds).toBeGreaterThanOrEqual(0);
  });

  it('health: the database down is the one reason for 503 ("error"); back up, 200 again', async () => {
    const db = t.app.get(DataSource);
    await db.destroy();
    try {
      const down = await t.http().get('/api/health').expect(503);
      expect(down.body).toMatchObject({ status: 'error', database: { status: 'down', message: expect.any(String) }, volumes: [] });
      expect(down.body.problems[0]).toMatch(/^database down: /);
      await t.http().get('/api/health/live').expect(200, { status: 'ok' });
      // The metrics still render; what the catalog would say is unknown (NaN), never a reassuring 0.
      const m = await t.http().get('/metrics').expect(200);
      expect(m.text).toMatch(/^studiovault_files_at_risk nan$/im);
      expect(m.text).toMatch(/^studiovault_oldest_unverified_file_age_seconds nan$/im);
      expect(m.text).not.toMatch(/^studiovault_files\{/m);
    } finally {
      await db.initialize();
    }
    expect((await t.http().get('/api/health').expect(200)).body.database).toEqual({ status: 'up' });
  });

  it('echoes a given request id and makes one otherwise', async () => {
    const res = await t.http().get('/api/health/live').set('X-Request-Id', 'edit-bay-2:42').expect(200);
    expect(res.headers['x-request-id']).toBe('edit-bay-2:42');
    const bad = await t.http().get('/api/health/live').set('X-Request-Id', 'has spaces and <html>').expect(200);
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const err = await t.http().get('/api/projects').set('X-Request-Id', 'req-1').expect(401);
    expect(err.body.requestId).toBe('req-1');
  });

  it('serves Prometheus metrics including request timings and error codes', async () => {
    await t.http().get('/api/projects').expect(401);
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/studiovault_http_request_duration_seconds_bucket\{.*route="\/api\/health\/live"/);
    expect(res.text).toMatch(/studiovault_http_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
    expect(res.text).toMatch(/studiovault_process_resident_memory_bytes/);
  });
});
