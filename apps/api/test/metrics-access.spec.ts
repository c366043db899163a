import { TestApp } from '@studiovault/testing';
import { startApi } from './helpers';

const TOKEN = 'prometheus-scrape-token-0123456789';

describe('/metrics access with STUDIOVAULT_METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ STUDIOVAULT_METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t.close());

  it('refuses without a token, even from this host', async () => {
    const res = await t.http().get('/metrics').expect(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.text).not.toContain('studiovault_http');
  });

  it('refuses a wrong token (and a prefix of the right one)', async () => {
    for (const wrong of ['not-the-token', TOKEN.slice(0, -1), `${TOKEN}x`]) {
      const res = await t.http().get('/metrics').auth(wrong, { type: 'bearer' }).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    }
    // an API token of a user is not the metrics token
    await t
      .http()
      .get('/metrics')
      .set('Authorization', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)
      .expect(401);
  });

  it('serves the metrics with the token, from any address', async () => {
    const res = await t.http().get('/metrics').set('X-Forwarded-For', '192.0.2.50').auth(TOKEN, { type: 'bearer' }).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/studiovault_http_request_duration_seconds_bucket/);
    expect(res.text).toMatch(/studiovault_http_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
  });
});

describe('/metrics without a token: this host only', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('answers loopback clients and refuses other addresses with 401', async () => {
    await t.http().get('/metrics').expect(200);
    const res = await t.http().get('/metrics').set('X-Forwarded-For', '192.0.2.50').expect(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect(res.body.message).toContain('STUDIOVAULT_METRICS_TOKEN');
    expect(res.text).not.toContain('studiovault_process');
  });
});
