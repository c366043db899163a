import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSetupCode, TestApp } from '@studiovault/testing';
import { Client } from 'pg';
import { ADMIN, startApi, userToken } from './helpers';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'] as string[] | undefined;
  const c = set?.find((s) => s.startsWith('sv_session='));
  if (!c) throw new Error('no session cookie');
  return c;
}

describe('accounts: setup, sessions, CSRF, tokens, roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ STUDIOVAULT_LOGIN_ATTEMPTS: '3' });
  });
  afterAll(() => t.close());

  it('first-run setup needs the one-time code the server wrote (0600) under its data folder', async () => {
    const file = join(t.dataDir, 'setup-code');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const missing = await t.http().post('/api/setup').send(ADMIN).expect(403);
    expect(missing.body.code).toBe('SETUP_CODE_INVALID');
    const wrong = await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, setupCode: 'AAAA-BBBB-CCCC-DDDD' })
      .expect(403);
    expect(wrong.body.code).toBe('SETUP_CODE_INVALID');
    expect(JSON.stringify([missing.body, wrong.body])).not.toContain(await readSetupCode(t.dataDir));
    expect((await t.http().get('/api/setup').expect(200)).body.needsSetup).toBe(true);
  });

  it('first-run setup creates one admin, once, and signs in with an httpOnly SameSite cookie', async () => {
    expect((await t.http().get('/api/setup').expect(200)).body.needsSetup).toBe(true);
    const setupCode = (await readSetupCode(t.dataDir)).toLowerCase(); // case does not matter
    const [a, b] = await Promise.all([
      t
        .http()
        .post('/api/setup')
        .send({ ...ADMIN, setupCode }),
      t
        .http()
        .post('/api/setup')
        .send({ ...ADMIN, name: 'Second Tab', setupCode }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.code).toBe('SETUP_ALREADY_DONE');
    const winner = a.status === 200 ? a : b;
    const cookie = cookieOf(winner);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(winner.body.user.role).toBe('admin');
    expect((await t.http().get('/api/setup').expect(200)).body.needsSetup).toBe(false);
    // the winner's e-mail is the only user
    const res = await t.http().get('/api/users').set('Cookie', cookie.split(';')[0]).expect(200);
    expect(res.body).toHaveLength(1);
    // the code is used up: gone from the data folder, and setup is refused with it
    await expect(stat(join(t.dataDir, 'setup-code'))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, email: 'late@studio.test', setupCode })
      .expect(409);
    expect(again.body.code).toBe('SETUP_ALREADY_DONE');
  });

  it('cookie writes need the CSRF token; reads do not', async () => {
    const login = await t.http().post('/api/auth/login').send({ email: ADMIN.email, password: ADMIN.password }).expect(200);
    const cookie = cookieOf(login).split(';')[0];
    const csrf = login.body.csrfToken as string;
    await t.http().get('/api/projects').set('Cookie', cookie).expect(200);
    const refused = await t.http().post('/api/projects').set('Cookie', cookie).send({ name: 'No CSRF' }).expect(403);
    expect(refused.body.code).toBe('CSRF_TOKEN_INVALID');
    await t.http().post('/api/projects').set('Cookie', cookie).set('X-CSRF-Token', 'wrong').send({ name: 'Bad CSRF' }).expect(403);
    await t.http().post('/api/projects').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({ name: 'With CSRF' }).expect(201);
    const list = await t.http().get('/api/projects?search=csrf').set('Cookie', cookie).expect(200);
    expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['With CSRF']);
    // session tells the CSRF token back after a reload
    const session = await t.http().get('/api/auth/session').set('Cookie', cookie).expect(200);
    expect(session.body.csrfToken).toBe(csrf);
    // logout ends the session
    await t.http().post('/api/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', csrf).expect(204);
    const after = await t.http().get('/api/auth/session').set('Cookie', cookie).expect(401);
    expect(after.body.code).toBe('SESSION_EXPIRED');
  });

  it('an expired session is refused with SESSION_EXPIRED', async () => {
    const login = await t.http().post('/api/auth/login').send({ email: ADMIN.email, password: ADMIN.password }).expect(200);
    const cookie = cookieOf(login).split(';')[0];
    const pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    await pg.query(`UPDATE sessions SET expires_at = now() - interval '1 minute'`);
    await pg.end();
    const res = await t.http().get('/api/projects').set('Cookie', cookie).expect(401);
    expect(res.body.code).toBe('SESSION_EXPIRED');
  });

  it('API tokens: shown once, stored hashed, named, last-used, revocable', async () => {
    const token = await setupAdminToken();
    const created = await t.http().post('/api/tokens').auth(token, { type: 'bearer' }).send({ name: 'edit-bay-2' }).expect(201);
    expect(created.body.token).toMatch(/^svt_[A-Za-z0-9_-]{43}$/);
    const list = await t.http().get('/api/tokens').auth(created.body.token, { type: 'bearer' }).expect(200);
    const mine = list.body.find((x: { id: string }) => x.id === created.body.id);
    expect(mine.token).toBeUndefined();
    expect(mine.lastUsedAt).not.toBeNull();
    const dup = await t.http().post('/api/tokens').auth(token, { type: 'bearer' }).send({ name: 'edit-bay-2' }).expect(409);
    expect(dup.body.code).toBe('TOKEN_NAME_TAKEN');
    const pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    const rows = await pg.query(`SELECT token_hash FROM api_tokens WHERE id = $1`, [created.body.id]);
    await pg.end();
    expect(rows.rows[0].token_hash).toHaveLength(64);
    expect(rows.rows[0].token_hash).not.toContain(created.body.token.slice(4, 20));
    await t.http().delete(`/api/tokens/${created.body.id}`).auth(token, { type: 'bearer' }).expect(204);
    const revoked = await t.http().get('/api/projects').auth(created.body.token, { type: 'bearer' }).expect(401);
    expect(revoked.body.code).toBe('TOKEN_INVALID');
  });

  it("a disabled user's token and sessions stop working; the last admin cannot be demoted", async () => {
    const admin = await setupAdminToken();
    const editor = await userToken(t, admin, 'editor', 'disabled-editor@studio.test');
    await t.http().get('/api/projects').auth(editor, { type: 'bearer' }).expect(200);
    const users = await t.http().get('/api/users').auth(admin, { type: 'bearer' }).expect(200);
    const id = users.body.find((u: { email: string }) => u.email === 'disabled-editor@studio.test').id;
    await t.http().patch(`/api/users/${id}`).auth(admin, { type: 'bearer' }).send({ disabled: true }).expect(200);
    const res = await t.http().get('/api/projects').auth(editor, { type: 'bearer' }).expect(403);
    expect(res.body.code).toBe('USER_DISABLED');
    const login = await t
      .http()
      .post('/api/auth/login')
      .send({ email: 'disabled-editor@studio.test', password: 'editor-password-123' })
      .expect(403);
    expect(login.body.code).toBe('USER_DISABLED');
    const adminId = users.body.find((u: { email: string }) => u.email === ADMIN.email).id;
    const last = await t.http().patch(`/api/users/${adminId}`).auth(admin, { type: 'bearer' }).send({ role: 'viewer' }).expect(409);
    expect(last.body.code).toBe('LAST_ADMIN');
  });

  it('invitations: token shown once, sets the password, signs in', async () => {
    const admin = await setupAdminToken();
    const inv = await t
      .http()
      .post('/api/users')
      .auth(admin, { type: 'bearer' })
      .send({ email: 'New.Editor@Studio.test', name: 'New', role: 'editor' })
      .expect(201);
    expect(inv.body.inviteToken).toMatch(/^svi_/);
    expect(inv.body.user.email).toBe('new.editor@studio.test');
    expect(inv.body.user.invited).toBe(true);
    const bad = await t.http().post('/api/auth/accept-invite').send({ token: 'svi_nope', password: 'long enough password' }).expect(403);
    expect(bad.body.code).toBe('INVITE_INVALID');
    const ok = await t
      .http()
      .post('/api/auth/accept-invite')
      .send({ token: inv.body.inviteToken, password: 'long enough password' })
      .expect(200);
    expect(ok.body.user.role).toBe('editor');
    await t.http().post('/api/auth/accept-invite').send({ token: inv.body.inviteToken, password: 'long enough password' }).expect(403);
    await t.http().post('/api/auth/login').send({ email: 'new.editor@studio.test', password: 'long enough password' }).expect(200);
    const dup = await t
      .http()
      .post('/api/users')
      .auth(admin, { type: 'bearer' })
      .send({ email: 'new.editor@studio.test', name: 'Again', role: 'viewer' })
      .expect(409);
    expect(dup.body.code).toBe('EMAIL_TAKEN');
  });

  it('unknown e-mail and wrong password answer the same', async () => {
    const a = await t.http().post('/api/auth/login').send({ email: 'nobody@studio.test', password: 'whatever pass' }).expect(401);
    expect(a.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('rate-limits failed sign-ins per account and answers with Retry-After', async () => {
    const email = 'ratelimit@studio.test';
    const admin = await setupAdminToken();
    await t
      .http()
      .post('/api/users')
      .auth(admin, { type: 'bearer' })
      .send({ email, name: 'R', role: 'viewer', password: 'the right password' })
      .expect(201);
    for (let i = 0; i < 3; i++) {
      const r = await t.http().post('/api/auth/login').send({ email, password: 'wrong password!' }).expect(401);
      expect(r.body.code).toBe('INVALID_CREDENTIALS');
    }
    const limited = await t.http().post('/api/auth/login').send({ email, password: 'the right password' }).expect(429);
    expect(limited.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('audits admin actions with the actor', async () => {
    const admin = await setupAdminToken();
    const res = await t.http().get('/api/audit?limit=200').auth(admin, { type: 'bearer' }).expect(200);
    const actions = res.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'setup.first_admin',
        'user.create',
        'user.invite',
        'user.update',
        'token.create',
        'token.revoke',
        'project.create',
        'auth.login_failed',
      ]),
    );
    const upd = res.body.items.find((e: { action: string }) => e.action === 'user.update');
    expect(upd.actorEmail).toBe(ADMIN.email);
    expect(JSON.stringify(res.body)).not.toMatch(/password|svt_[A-Za-z0-9_-]{43}/);
  });

  it('a 900 KB e-mail or an over-long password is refused before the rate limiter and the audit log see it', async () => {
    const audit = async () => {
      const pg = new Client({ connectionString: t.db.url });
      await pg.connect();
      const r = await pg.query(
        `SELECT count(*)::int AS n, coalesce(max(octet_length(details::text)), 0)::int AS biggest FROM audit_events`,
      );
      await pg.end();
      return r.rows[0] as { n: number; biggest: number };
    };
    const before = await audit();
    const huge = `${'a'.repeat(900 * 1024)}@studio.test`;
    const attempts = [
      t.http().post('/api/auth/login').send({ email: huge, password: 'x' }),
      t.http().post('/api/auth/token').send({ email: huge, password: 'x', tokenName: 'x' }),
      t
        .http()
        .post('/api/auth/login')
        .send({ email: 'ada@studio.test', password: 'p'.repeat(2000) }),
      t.http().post('/api/auth/login').send({ email: 'ada@studio.test' }),
      t.http().post('/api/auth/login').send({ email: 'ada@studio.test', password: 'x', isAdmin: true }),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.text.length).toBeLessThan(2000); // the error names the field, it does not echo it
    }
    // Nothing was audited (and nothing counted as a failed sign-in), so no row grew with the e-mail.
    expect(await audit()).toEqual(before);
    expect(before.biggest).toBeLessThan(4096);
    // A body over the JSON limit is 413 with the usual shape.
    const tooBig = await t
      .http()
      .post('/api/auth/login')
      .send({ email: `${'a'.repeat(1100 * 1024)}@studio.test`, password: 'x' });
    expect({ status: tooBig.status, code: tooBig.body.code, requestId: Boolean(tooBig.body.requestId) }).toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      requestId: true,
    });
  });

  let cachedAdmin: string | undefined;
  async function setupAdminToken(): Promise<string> {
    if (cachedAdmin) return cachedAdmin;
    const res = await t
      .http()
      .post('/api/auth/token')
      .send({ email: ADMIN.email, password: ADMIN.password, tokenName: `admin-${Date.now()}` })
      .expect(200);
    cachedAdmin = res.body.token as string;
    return cachedAdmin;
  }
});
