import { SessionsService } from '@studiovault/auth';
import { TestApp } from '@studiovault/testing';
import { Client } from 'pg';
import { ADMIN, setupAdmin, startApi } from './helpers';

/** Supertest connects from loopback, which the app trusts as a proxy: X-Forwarded-For names the client. */
const ATTACKER = '203.0.113.7';
const ADMIN_DESK = '198.51.100.20';
const SPRAYER = '203.0.113.99';

describe('sign-in limits: per account and address, with a cap per address', () => {
  let t: TestApp;
  let pg: Client;
  beforeAll(async () => {
    t = await startApi({ STUDIOVAULT_LOGIN_ATTEMPTS: '3' });
    await setupAdmin(t);
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await t.close();
  });

  const login = (from: string, password: string, email = ADMIN.email) =>
    t.http().post('/api/auth/login').set('X-Forwarded-For', from).send({ email, password });

  it('slows only the guessing address, with growing delays; the admin still signs in from elsewhere', async () => {
    for (let i = 0; i < 3; i++) expect((await login(ATTACKER, 'wrong password!')).status).toBe(401);
    const first = await login(ATTACKER, ADMIN.password);
    expect(first.status).toBe(429);
    expect(first.body.code).toBe('TOO_MANY_REQUESTS');
    const firstWait = Number(first.headers['retry-after']);
    expect(firstWait).toBeGreaterThan(0);
    expect(firstWait).toBeLessThanOrEqual(30);

    // the admin, from their own desk, by password and by the CLI's token login
    expect((await login(ADMIN_DESK, ADMIN.password)).status).toBe(200);
    await t
      .http()
      .post('/api/auth/token')
      .set('X-Forwarded-For', ADMIN_DESK)
      .send({ email: ADMIN.email, password: ADMIN.password, tokenName: 'desk' })
      .expect(200);

    // the delay runs out (moved into the past here), the next failure doubles it
    await pg.query(`UPDATE login_failures SET blocked_until = now() - interval '1 second' WHERE key LIKE $1`, [`pair:${ATTACKER}|%`]);
    expect((await login(ATTACKER, 'wrong again!!!')).status).toBe(401);
    const second = await login(ATTACKER, ADMIN.password);
    expect(second.status).toBe(429);
    const secondWait = Number(second.headers['retry-after']);
    expect(secondWait).toBeGreaterThan(30);
    expect(secondWait).toBeLessThanOrEqual(60);

    // counted in Postgres, so every API replica sees the same numbers
    const rows = await pg.query(`SELECT key, failures FROM login_failures ORDER BY key`);
    expect(rows.rows).toEqual(
      expect.arrayContaining([
        { key: `pair:${ATTACKER}|${ADMIN.email}`, failures: 4 },
        { key: `address:${ATTACKER}`, failures: 4 },
      ]),
    );
    expect(rows.rows.map((r: { key: string }) => r.key)).not.toContain(`pair:${ADMIN_DESK}|${ADMIN.email}`);
  });

  it('caps one address spraying many accounts (5 x the per-account number in 15 minutes)', async () => {
    for (let i = 0; i < 15; i++) expect((await login(SPRAYER, 'a guessed password', `user${i}@studio.test`)).status).toBe(401);
    const capped = await login(SPRAYER, ADMIN.password);
    expect(capped.status).toBe(429);
    const wait = Number(capped.headers['retry-after']);
    expect(wait).toBeGreaterThan(14 * 60);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    // another address is not touched
    expect((await login(ADMIN_DESK, ADMIN.password)).status).toBe(200);
  });

  it('the nightly sessions purge forgets failures a day old, keeping blocks in force', async () => {
    await pg.query(
      `INSERT INTO login_failures (key, failures, window_started_at, last_failed_at, blocked_until) VALUES
         ('pair:192.0.2.1|old@studio.test', 3, now() - interval '2 days', now() - interval '25 hours', NULL),
         ('pair:192.0.2.2|blocked@studio.test', 9, now() - interval '2 days', now() - interval '25 hours', now() + interval '5 minutes'),
         ('pair:192.0.2.3|recent@studio.test', 1, now(), now(), NULL)`,
    );
    await t.app.get(SessionsService).purgeExpired();
    const keys = (await pg.query(`SELECT key FROM login_failures WHERE key LIKE 'pair:192.0.2.%'`)).rows.map((r: { key: string }) => r.key);
    expect(keys.sort()).toEqual(['pair:192.0.2.2|blocked@studio.test', 'pair:192.0.2.3|recent@studio.test']);
  });

  it('a right password forgets the address failures on that account', async () => {
    const DESK2 = '198.51.100.21';
    for (let i = 0; i < 2; i++) expect((await login(DESK2, 'typo password')).status).toBe(401);
    expect((await login(DESK2, ADMIN.password)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await login(DESK2, 'typo password')).status).toBe(401);
    expect((await login(DESK2, ADMIN.password)).status).toBe(200);
  });
});
