import { TestApp } from '@studiovault/testing';
import { Client } from 'pg';
import { ADMIN, setupAdmin, startApi, userToken } from './helpers';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'] as string[] | undefined;
  const c = set?.find((s) => s.startsWith('sv_session='));
  if (!c) throw new Error('no session cookie');
  return c.split(';')[0];
}

describe('accounts: disabling, password change, admin password reset', () => {
  let t: TestApp;
  let admin: string;
  let pg: Client;
  beforeAll(async () => {
    t = await startApi();
    admin = await setupAdmin(t);
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await t.close();
  });

  async function idOf(email: string): Promise<string> {
    const users = await t.http().get('/api/users').auth(admin, { type: 'bearer' }).expect(200);
    return users.body.find((u: { email: string }) => u.email === email).id as string;
  }

  async function signIn(email: string, password: string): Promise<{ cookie: string; csrf: string }> {
    const res = await t.http().post('/api/auth/login').send({ email, password }).expect(200);
    return { cookie: cookieOf(res), csrf: res.body.csrfToken as string };
  }

  it('disabling revokes the API tokens for good: re-enabling does not bring them back', async () => {
    const email = 'leaver@studio.test';
    const token = await userToken(t, admin, 'editor', email);
    const session = await signIn(email, 'editor-password-123');
    const id = await idOf(email);
    await t.http().patch(`/api/users/${id}`).auth(admin, { type: 'bearer' }).send({ disabled: true }).expect(200);
    await t.http().patch(`/api/users/${id}`).auth(admin, { type: 'bearer' }).send({ disabled: false }).expect(200);
    const old = await t.http().get('/api/projects').auth(token, { type: 'bearer' }).expect(401);
    expect(old.body.code).toBe('TOKEN_INVALID');
    const oldSession = await t.http().get('/api/projects').set('Cookie', session.cookie).expect(401);
    expect(oldSession.body.code).toBe('SESSION_EXPIRED');
    const { rows } = await pg.query(`SELECT count(*)::int AS live FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`, [id]);
    expect(rows[0].live).toBe(0);
    // the person signs in again with their password and makes a new token
    await t.http().post('/api/auth/token').send({ email, password: 'editor-password-123', tokenName: 'new one' }).expect(200);
  });

  it('changing one’s password needs the current one and ends the other sessions, keeping this one', async () => {
    const email = 'changer@studio.test';
    await userToken(t, admin, 'viewer', email);
    const here = await signIn(email, 'viewer-password-123');
    const elsewhere = await signIn(email, 'viewer-password-123');
    const change = (currentPassword: string, newPassword: string) =>
      t.http().post('/api/auth/password').set('Cookie', here.cookie).set('X-CSRF-Token', here.csrf).send({ currentPassword, newPassword });

    const wrong = await change('not my password', 'a brand new password').expect(403);
    expect(wrong.body.code).toBe('CURRENT_PASSWORD_WRONG');
    const short = await change('viewer-password-123', 'short').expect(400);
    expect(short.body.code).toBe('VALIDATION_FAILED');
    await t.http().get('/api/projects').set('Cookie', elsewhere.cookie).expect(200);

    await change('viewer-password-123', 'a brand new password').expect(204);
    await t.http().get('/api/projects').set('Cookie', here.cookie).expect(200);
    const ended = await t.http().get('/api/projects').set('Cookie', elsewhere.cookie).expect(401);
    expect(ended.body.code).toBe('SESSION_EXPIRED');
    await t.http().post('/api/auth/login').send({ email, password: 'viewer-password-123' }).expect(401);
    await t.http().post('/api/auth/login').send({ email, password: 'a brand new password' }).expect(200);
  });

  it('an admin reset link sets a new password once, ends every session, and expires', async () => {
    const email = 'forgetful@studio.test';
    await userToken(t, admin, 'editor', email);
    const before = await signIn(email, 'editor-password-123');
    const id = await idOf(email);

    const created = await t.http().post(`/api/users/${id}/password-reset`).auth(admin, { type: 'bearer' }).expect(201);
    expect(created.body.resetToken).toMatch(/^svr_[A-Za-z0-9_-]{43}$/);
    expect(new Date(created.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    // an editor cannot make one
    const editor = await userToken(t, admin, 'editor', 'other-editor@studio.test');
    await t.http().post(`/api/users/${id}/password-reset`).auth(editor, { type: 'bearer' }).expect(403);

    const bad = await t.http().post('/api/auth/reset-password').send({ token: 'svr_nope', password: 'a fresh password!' }).expect(403);
    expect(bad.body.code).toBe('RESET_INVALID');
    const used = await t
      .http()
      .post('/api/auth/reset-password')
      .send({ token: created.body.resetToken, password: 'a fresh password!' })
      .expect(200);
    expect(used.body.user.email).toBe(email);
    const after = cookieOf(used);
    await t.http().get('/api/projects').set('Cookie', after).expect(200);
    const old = await t.http().get('/api/projects').set('Cookie', before.cookie).expect(401);
    expect(old.body.code).toBe('SESSION_EXPIRED');
    await t.http().post('/api/auth/login').send({ email, password: 'editor-password-123' }).expect(401);
    await t.http().post('/api/auth/login').send({ email, password: 'a fresh password!' }).expect(200);

    const again = await t
      .http()
      .post('/api/auth/reset-password')
      .send({ token: created.body.resetToken, password: 'yet another password' })
      .expect(403);
    expect(again.body.code).toBe('RESET_INVALID');

    const second = await t.http().post(`/api/users/${id}/password-reset`).auth(admin, { type: 'bearer' }).expect(201);
    await pg.query(`UPDATE users SET reset_expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    const expired = await t
      .http()
      .post('/api/auth/reset-password')
      .send({ token: second.body.resetToken, password: 'yet another password' })
      .expect(403);
    expect(expired.body.code).toBe('RESET_INVALID');
    await t.http().post('/api/auth/login').send({ email, password: 'a fresh password!' }).expect(200);
  });

  it('audits each action without secrets', async () => {
    const res = await t.http().get('/api/audit?limit=200').auth(admin, { type: 'bearer' }).expect(200);
    const actions = res.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.password_change', 'user.password_reset_create', 'user.password_reset']));
    const disable = res.body.items.find(
      (e: { action: string; details?: { disabled?: boolean } }) => e.action === 'user.update' && e.details?.disabled === true,
    );
    expect(disable.details.tokensRevoked).toBe(1);
    const reset = res.body.items.find((e: { action: string }) => e.action === 'user.password_reset_create');
    expect(reset.actorEmail).toBe(ADMIN.email);
    expect(JSON.stringify(res.body)).not.toMatch(/svr_|password!|brand new/);
  });
});
