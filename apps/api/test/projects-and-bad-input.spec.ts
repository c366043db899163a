import { TestApp } from '@studiovault/testing';
import { Client } from 'pg';
import { setupAdmin, startApi, userToken } from './helpers';

describe('projects API and bad input', () => {
  let t: TestApp;
  let admin: string;
  let editor: string;
  const countRows = async (table: string) => {
    const pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    const r = await pg.query(`SELECT count(*)::int AS n FROM ${table}`);
    await pg.end();
    return r.rows[0].n as number;
  };

  beforeAll(async () => {
    t = await startApi({ STUDIOVAULT_BODY_LIMIT: '16kb' });
    admin = await setupAdmin(t);
    editor = await userToken(t, admin, 'editor');
  });
  afterAll(() => t.close());

  it('creates with a slug made from the name, gets, renames, archives', async () => {
    const p = await t
      .http()
      .post('/api/projects')
      .auth(editor, { type: 'bearer' })
      .send({ name: 'Anna & Ben — Wedding', client: 'Anna Müller', shootDate: '2026-09-12', type: 'wedding' })
      .expect(201);
    expect(p.body).toMatchObject({
      slug: 'anna-ben-wedding',
      client: 'Anna Müller',
      shootDate: '2026-09-12',
      type: 'wedding',
      status: 'active',
    });
    await t.http().get('/api/projects/anna-ben-wedding').auth(editor, { type: 'bearer' }).expect(200);
    const renamed = await t
      .http()
      .patch('/api/projects/anna-ben-wedding')
      .auth(editor, { type: 'bearer' })
      .send({ name: 'Anna & Ben' })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: 'Anna & Ben', slug: 'anna-ben-wedding' });
    const archived = await t.http().post('/api/projects/anna-ben-wedding/archive').auth(admin, { type: 'bearer' }).expect(200);
    expect(archived.body.status).toBe('archived');
    const locked = await t.http().patch('/api/projects/anna-ben-wedding').auth(editor, { type: 'bearer' }).send({ name: 'x' }).expect(409);
    expect(locked.body.code).toBe('PROJECT_ARCHIVED');
    const missing = await t.http().get('/api/projects/nope').auth(editor, { type: 'bearer' }).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('lists with search, status filter and paging', async () => {
    for (let i = 1; i <= 12; i++) {
      await t
        .http()
        .post('/api/projects')
        .auth(editor, { type: 'bearer' })
        .send({ name: `Newborn session ${i}`, type: 'newborn' })
        .expect(201);
    }
    const page1 = await t.http().get('/api/projects?search=newborn&limit=5&offset=0').auth(editor, { type: 'bearer' }).expect(200);
    const page3 = await t.http().get('/api/projects?search=newborn&limit=5&offset=10').auth(editor, { type: 'bearer' }).expect(200);
    expect(page1.body.total).toBe(12);
    expect(page1.body.items).toHaveLength(5);
    expect(page3.body.items).toHaveLength(2);
    const all = await t.http().get('/api/projects?search=NEWBORN&limit=100').auth(editor, { type: 'bearer' }).expect(200);
    expect(new Set(all.body.items.map((p: { slug: string }) => p.slug)).size).toBe(12);
    const archived = await t.http().get('/api/projects?status=archived').auth(editor, { type: 'bearer' }).expect(200);
    expect(archived.body.items.map((p: { slug: string }) => p.slug)).toEqual(['anna-ben-wedding']);
    // LIKE wildcards in the search are literal
    const pct = await t.http().get('/api/projects?search=%25').auth(editor, { type: 'bearer' }).expect(200);
    expect(pct.body.total).toBe(0);
  });

  it('refuses a duplicate slug and writes nothing', async () => {
    const before = await countRows('projects');
    const res = await t
      .http()
      .post('/api/projects')
      .auth(editor, { type: 'bearer' })
      .send({ name: 'Other', slug: 'anna-ben-wedding' })
      .expect(409);
    expect(res.body).toMatchObject({ code: 'PROJECT_SLUG_TAKEN', statusCode: 409 });
    expect(res.body.message).toContain('anna-ben-wedding');
    expect(await countRows('projects')).toBe(before);
  });

  const bad: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, string][] = [
    [
      'malformed JSON',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).set('Content-Type', 'application/json').send('{"name": "x",'),
      400,
      'MALFORMED_JSON',
    ],
    [
      'oversize body',
      () =>
        t
          .http()
          .post('/api/projects')
          .auth(editor, { type: 'bearer' })
          .send({ name: 'x', client: 'y'.repeat(20_000) }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'unknown field',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 'x', isAdmin: true }),
      400,
      'VALIDATION_FAILED',
    ],
    ['wrong type', () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 42 }), 400, 'VALIDATION_FAILED'],
    [
      'over-long name',
      () =>
        t
          .http()
          .post('/api/projects')
          .auth(editor, { type: 'bearer' })
          .send({ name: 'n'.repeat(201) }),
      400,
      'VALIDATION_FAILED',
    ],
    ['blank name', () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: '   ' }), 400, 'VALIDATION_FAILED'],
    [
      'bad slug',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 'x', slug: '../etc' }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'bad date',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 'x', shootDate: '2026-02-30' }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'bad type',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 'x', type: 'bar-mitzvah' }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a name with no slug characters',
      () => t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: '——' }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a JSON array body',
      () =>
        t
          .http()
          .post('/api/projects')
          .auth(editor, { type: 'bearer' })
          .send([{ name: 'x' }]),
      400,
      'VALIDATION_FAILED',
    ],
    ['paging out of range', () => t.http().get('/api/projects?limit=100000').auth(editor, { type: 'bearer' }), 400, 'VALIDATION_FAILED'],
    ['non-uuid id', () => t.http().get('/api/users/1').auth(admin, { type: 'bearer' }), 400, 'VALIDATION_FAILED'],
    ['an unknown route', () => t.http().get('/api/nope').auth(admin, { type: 'bearer' }), 404, 'ROUTE_NOT_FOUND'],
    ['a garbage bearer token', () => t.http().get('/api/projects').auth('svt_garbage', { type: 'bearer' }), 401, 'TOKEN_INVALID'],
    [
      'a short password for a new user',
      () =>
        t
          .http()
          .post('/api/users')
          .auth(admin, { type: 'bearer' })
          .send({ email: 'a@b.test', name: 'a', role: 'viewer', password: 'short' }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'an unknown role',
      () => t.http().post('/api/users').auth(admin, { type: 'bearer' }).send({ email: 'a@b.test', name: 'a', role: 'owner' }),
      400,
      'VALIDATION_FAILED',
    ],
  ];

  it.each(bad)('%s → clear 4xx with a stable code, nothing written', async (_name, send, status, code) => {
    const before = [await countRows('projects'), await countRows('users')];
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(typeof res.body.message).toBe('string');
    expect(String(res.body.message).length).toBeGreaterThan(5);
    expect(res.body.requestId).toBeTruthy();
    expect([await countRows('projects'), await countRows('users')]).toEqual(before);
  });

  it('names every field problem', async () => {
    const res = await t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 42, type: 'x', extra: 1 }).expect(400);
    expect(res.body.details.join('\n')).toMatch(/extra is not an accepted field/);
    expect(res.body.details.join('\n')).toMatch(/type must be one of/);
  });
});
