import { TestApp } from '@studiovault/testing';
import { Client } from 'pg';
import { VolumesService } from '@studiovault/volumes';
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
    await t.app.get(VolumesService).registerConfigured(); // cards are announced only on volumes known by their marker
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

  /** Text of Postgres's own errors, which must never reach a client. */
  const DB_TEXT =
    /invalid input syntax|violates|relation|out of range for type|invalid byte sequence|QueryFailedError|syntax error|column/i;
  const expectCleanError = (res: { status: number; text: string; body: Record<string, unknown> }, status: number, code: string) => {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.body.statusCode).toBe(status);
    expect(res.body.requestId).toBeTruthy();
    expect(res.text).not.toMatch(DB_TEXT);
  };

  describe('NUL bytes, huge ids and bad tus metadata: 400/404, never a 500 or database text', () => {
    it('a NUL in the login e-mail, without signing in', async () => {
      const res = await t.http().post('/api/auth/login').send({ email: 'ada\u0000@studio.test', password: 'whatever' });
      expectCleanError(res, 400, 'VALIDATION_FAILED');
      const token = await t.http().post('/api/auth/token').send({ email: 'ada@studio.test', password: 'pw\u0000', tokenName: 'x' });
      expectCleanError(token, 400, 'VALIDATION_FAILED');
    });

    it('a NUL in a project name, a nested field or a key writes nothing', async () => {
      const before = await countRows('projects');
      for (const body of [{ name: 'Ada\u0000Wedding' }, { name: 'x', client: 'a\u0000' }, { name: 'x', ['cl\u0000ient']: 'y' }]) {
        expectCleanError(await t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send(body), 400, 'VALIDATION_FAILED');
      }
      expect(await countRows('projects')).toBe(before);
    });

    it('a NUL in a query string or a path parameter', async () => {
      expectCleanError(await t.http().get('/api/projects?search=a%00b').auth(editor, { type: 'bearer' }), 400, 'VALIDATION_FAILED');
      expectCleanError(await t.http().get('/api/audit?action=%00').auth(admin, { type: 'bearer' }), 400, 'VALIDATION_FAILED');
      expectCleanError(await t.http().get('/api/projects/ab%00c').auth(editor, { type: 'bearer' }), 400, 'VALIDATION_FAILED');
      expectCleanError(await t.http().get('/api/projects/ab%00c/cards').auth(editor, { type: 'bearer' }), 400, 'VALIDATION_FAILED');
    });

    it('numeric ids past bigint, and ids that are not numbers', async () => {
      for (const id of ['99999999999999999999', '9223372036854775808', '-1', '1e3', 'abc', '0']) {
        const res = await t.http().get(`/api/assets/${id}/content`).auth(editor, { type: 'bearer' });
        expectCleanError(res, 400, 'VALIDATION_FAILED');
      }
      // the largest bigint is a well-formed id of a file that is not there
      expectCleanError(await t.http().get('/api/assets/9223372036854775807/content').auth(editor, { type: 'bearer' }), 404, 'NOT_FOUND');
    });

    const tusCreate = (metadata: string | undefined, token = editor) => {
      const req = t.http().post('/files').set('Tus-Resumable', '1.0.0').set('Upload-Length', '3').auth(token, { type: 'bearer' });
      return metadata === undefined ? req : req.set('Upload-Metadata', metadata);
    };
    const meta = (m: Record<string, string>) =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
        .join(',');

    it.each([
      ['no Upload-Metadata', undefined, 400, 'VALIDATION_FAILED'],
      ['no cardId', meta({ relativePath: 'DCIM/A.JPG' }), 400, 'VALIDATION_FAILED'],
      ['an empty cardId', meta({ cardId: '', relativePath: 'DCIM/A.JPG' }), 400, 'VALIDATION_FAILED'],
      ['a garbage cardId', meta({ cardId: "1' OR 1=1 --", relativePath: 'DCIM/A.JPG' }), 400, 'VALIDATION_FAILED'],
      ['a numeric cardId', meta({ cardId: '99999999999999999999', relativePath: 'DCIM/A.JPG' }), 400, 'VALIDATION_FAILED'],
      [
        'a cardId with a NUL',
        meta({ cardId: '00000000-0000-4000-8000-000000000000\u0000', relativePath: 'A.JPG' }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a card that does not exist',
        meta({ cardId: '00000000-0000-4000-8000-000000000000', relativePath: 'DCIM/A.JPG' }),
        404,
        'CARD_NOT_FOUND',
      ],
    ])('tus POST /files with %s', async (_name, metadata, status, code) => {
      const before = await countRows('uploads');
      const res = await tusCreate(metadata);
      expect(res.status).toBe(status);
      const body = JSON.parse(res.text) as Record<string, unknown>;
      expect(body).toMatchObject({ statusCode: status, code });
      expect(body.requestId).toBe(res.headers['x-request-id']);
      expect(res.text).not.toMatch(DB_TEXT);
      expect(await countRows('uploads')).toBe(before);
    });

    it('tus POST /files for a card of an archived project, or with an mtime Postgres cannot hold', async () => {
      await t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 'Tus Checks', slug: 'tus-checks' }).expect(201);
      const card = await t
        .http()
        .post('/api/projects/tus-checks/cards')
        .auth(editor, { type: 'bearer' })
        .send({ label: 'A001' })
        .expect(201);
      const before = await countRows('uploads');
      const farPast = await tusCreate(meta({ cardId: card.body.id, relativePath: 'DCIM/A.JPG', mtime: '-005000-01-01T00:00:00Z' }));
      expect(farPast.status).toBe(400);
      expect(JSON.parse(farPast.text)).toMatchObject({ code: 'VALIDATION_FAILED', details: ['mtime'] });
      await t.http().post('/api/projects/tus-checks/archive').auth(admin, { type: 'bearer' }).expect(200);
      const archived = await tusCreate(meta({ cardId: card.body.id, relativePath: 'DCIM/A.JPG' }));
      expect(archived.status).toBe(409);
      expect(JSON.parse(archived.text)).toMatchObject({ code: 'PROJECT_ARCHIVED' });
      expect(await countRows('uploads')).toBe(before);
    });
  });

  it('names every field problem', async () => {
    const res = await t.http().post('/api/projects').auth(editor, { type: 'bearer' }).send({ name: 42, type: 'x', extra: 1 }).expect(400);
    expect(res.body.details.join('\n')).toMatch(/extra is not an accepted field/);
    expect(res.body.details.join('\n')).toMatch(/type must be one of/);
  });
});
