import { TestApp } from '@studiovault/testing';
import { startApi } from './helpers';

describe('operations: health, metrics, request ids, volumes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('health: readiness includes the database; liveness answers', async () => {
    const ready = await t.http().get('/api/health').expect(200);
    expect(ready.body.info.database.status).toBe('up');
    await t.http().get('/api/health/live').expect(200, { status: 'ok' });
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
