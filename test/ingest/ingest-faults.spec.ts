import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumesService } from '@studiovault/volumes';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from './ingest-helpers';

const YEAR = '2026';

/** tus creation by hand, to send what a well-behaved client never would. */
function metadataHeader(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',');
}

describe('card ingest: bad input and faults', () => {
  let t: IngestApp;
  let primary: string;
  let mirrorParent: string;
  let mirror: string;
  let viewer: string;
  let cardId: string;

  const stagingFiles = (root: string) =>
    existsSync(join(root, '.studiovault/staging')) ? readdirSync(join(root, '.studiovault/staging')) : [];
  const cardFolderFiles = (root: string) => {
    const dir = join(root, YEAR, 'faults', 'F001');
    return existsSync(dir) ? execFileSync('find', [dir, '-type', 'f']).toString().trim().split('\n').filter(Boolean).sort() : [];
  };
  const card = async (id: string) => (await t.http().get(`/api/cards/${id}`).auth(t.admin, { type: 'bearer' }).expect(200)).body;
  const create = (meta: Record<string, string>, length: number, token = t.admin) =>
    t
      .http()
      .post('/files')
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Length', String(length))
      .set('Upload-Metadata', metadataHeader(meta))
      .auth(token, { type: 'bearer' });

  /** A raw tus PATCH of `body` at `offset` (the test's own tus requests, without a client). */
  const patch = (id: string, offset: number, body: Buffer) =>
    t
      .http()
      .patch(`/files/${id}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Offset', String(offset))
      .set('Content-Type', 'application/offset+octet-stream')
      .auth(t.admin, { type: 'bearer' })
      .send(body);

  beforeAll(async () => {
    primary = await mkdtemp(join(tmpdir(), 'sv-fault-primary-'));
    mirrorParent = await mkdtemp('/dev/shm/sv-fault-mirror-');
    mirror = join(mirrorParent, 'pool');
    await mkdir(mirror);
    t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
    await t
      .http()
      .post('/api/users')
      .auth(t.admin, { type: 'bearer' })
      .send({ email: 'v@studio.test', name: 'v', role: 'viewer', password: 'viewer-password-1' })
      .expect(201);
    viewer = (await t.http().post('/api/auth/token').send({ email: 'v@studio.test', password: 'viewer-password-1', tokenName: 'v' })).body
      .token;
    await t
      .http()
      .post('/api/projects')
      .auth(t.admin, { type: 'bearer' })
      .send({ name: 'Faults', slug: 'faults', shootDate: `${YEAR}-01-01` })
      .expect(201);
    cardId = (
      await t
        .http()
        .post('/api/projects/faults/cards')
        .auth(t.admin, { type: 'bearer' })
        .send({ label: 'F001', files: 100, bytes: 1000 })
        .expect(201)
    ).body.id;
    // one good file, which every bad request below must leave untouched
    const good = randomBytes(10_000);
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath: 'DCIM/GOOD.JPG', data: good });
    await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(sourceHashes(good))
      .expect(200);
  });
  afterAll(async () => {
    await t.close();
    await rm(primary, { recursive: true, force: true });
    await rm(mirrorParent, { recursive: true, force: true });
  });

  const badPaths: [string, string, string][] = [
    ['a path with ..', 'DCIM/../../etc/passwd', 'INVALID_PATH'],
    ['an absolute path', '/etc/passwd', 'INVALID_PATH'],
    ['a NUL byte', 'DCIM/IMG\u0000.JPG', 'INVALID_PATH'],
    ['a control character', 'DCIM/IMG\u0007.JPG', 'INVALID_PATH'],
    ['an over-long name', `DCIM/${'x'.repeat(300)}.JPG`, 'INVALID_PATH'],
    ['a backslash path', 'DCIM\\IMG.JPG', 'INVALID_PATH'],
    ['the ascmhl folder without kind=history', 'ascmhl/0001_x.mhl', 'INVALID_PATH'],
  ];
  it.each(badPaths)('refuses %s, writing nothing', async (_n, relativePath, code) => {
    const before = [cardFolderFiles(primary), cardFolderFiles(mirror), stagingFiles(primary).length];
    const res = await create({ cardId, relativePath }, 10);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).code).toBe(code);
    expect([cardFolderFiles(primary), cardFolderFiles(mirror), stagingFiles(primary).length]).toEqual(before);
  });

  it('refuses a name that collides with another after Unicode normalization (macOS NFD vs NFC)', async () => {
    const nfd = Buffer.from('nfd');
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath: 'DCIM/Cafe\u0301.JPG', data: nfd });
    await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(sourceHashes(nfd))
      .expect(200);
    const res = await create({ cardId, relativePath: 'DCIM/Caf\u00e9.JPG' }, 3);
    expect(res.status).toBe(409);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'PATH_COLLISION' });
  });

  it('refuses an upload from a viewer, and to an unknown card', async () => {
    const v = await create({ cardId, relativePath: 'DCIM/V.JPG' }, 3, viewer);
    expect(v.status).toBe(403);
    const u = await create({ cardId: '00000000-0000-4000-8000-000000000000', relativePath: 'DCIM/V.JPG' }, 3);
    expect(u.status).toBe(404);
    expect(JSON.parse(u.text).code).toBe('CARD_NOT_FOUND');
  });

  it('refuses a wrong client hash with both hashes, storing nothing', async () => {
    const data = randomBytes(50_000);
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath: 'DCIM/WRONG.JPG', data });
    const wrong = sourceHashes(randomBytes(10));
    const res = await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(wrong)
      .expect(460);
    expect(res.body.code).toBe('CHECKSUM_MISMATCH');
    expect(res.body.message).toContain(wrong.xxh64);
    expect(res.body.message).toContain(sourceHashes(data).xxh64);
    expect(cardFolderFiles(primary).some((f) => f.endsWith('WRONG.JPG'))).toBe(false);
    expect(stagingFiles(primary).some((f) => f.startsWith(uploadId(url)))).toBe(false);
    const missing = await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send({})
      .expect(400);
    expect(missing.body.code).toBe('VALIDATION_FAILED');
  });

  it('refuses bytes beyond the declared length, and will not seal a short upload', async () => {
    const created = await create({ cardId, relativePath: 'DCIM/LEN.JPG' }, 100).expect(201);
    const id = created.headers.location.split('/').pop()!;
    const more = await t
      .http()
      .patch(`/files/${id}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Offset', '0')
      .set('Content-Type', 'application/offset+octet-stream')
      .auth(t.admin, { type: 'bearer' })
      .send(randomBytes(150));
    expect(more.status).toBe(413);
    const head = await t.http().head(`/files/${id}`).set('Tus-Resumable', '1.0.0').auth(t.admin, { type: 'bearer' }).expect(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThanOrEqual(100);
    const less = await t
      .http()
      .patch(`/files/${id}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Offset', String(offset))
      .set('Content-Type', 'application/offset+octet-stream')
      .auth(t.admin, { type: 'bearer' })
      .send(randomBytes(Math.min(40, 100 - offset)));
    expect(less.status).toBe(204);
    const seal = await t
      .http()
      .post(`/api/uploads/${id}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(sourceHashes(Buffer.alloc(100)))
      .expect(409);
    expect(seal.body.code).toBe('UPLOAD_INCOMPLETE');
  });

  it('resumes at the byte offset after the client is cut mid-file', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 123);
    const first = await tusUpload({
      base: t.base,
      token: t.admin,
      cardId,
      relativePath: 'DCIM/CUT.CR3',
      data,
      chunkSize: 1024 * 1024,
      stopAfter: 2 * 1024 * 1024,
    });
    expect(first.stoppedAt).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const head = await t
      .http()
      .head(new URL(first.url).pathname)
      .set('Tus-Resumable', '1.0.0')
      .auth(t.admin, { type: 'bearer' })
      .expect(200);
    expect(Number(head.headers['upload-offset'])).toBe(first.stoppedAt);
    await tusUpload({
      base: t.base,
      token: t.admin,
      cardId,
      relativePath: 'DCIM/CUT.CR3',
      data,
      chunkSize: 1024 * 1024,
      uploadUrl: first.url,
    });
    const seal = await t
      .http()
      .post(`/api/uploads/${uploadId(first.url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(sourceHashes(data))
      .expect(200);
    await waitFor(
      async () =>
        (await t.http().get(`/api/cards/${cardId}/files?limit=1000`).auth(t.admin, { type: 'bearer' })).body.items.find(
          (f: { relativePath: string }) => f.relativePath === 'DCIM/CUT.CR3',
        )?.protection,
      (p) => p === 'verified',
    );
    expect(readFileSync(join(primary, seal.body.storedPath)).equals(data)).toBe(true);
    expect(readFileSync(join(mirror, seal.body.storedPath)).equals(data)).toBe(true);
  });

  it('removes uploads abandoned past the expiration, with their staged bytes', async () => {
    const created = await create({ cardId, relativePath: 'DCIM/ABANDONED.JPG' }, 1000).expect(201);
    const id = created.headers.location.split('/').pop()!;
    await patch(id, 0, randomBytes(300)).expect(204);
    expect(stagingFiles(primary)).toContain(`${id}.part`);
    const { Client } = await import('pg');
    const pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    await pg.query(`UPDATE uploads SET created_at = now() - interval '8 days' WHERE id = $1`, [id]);
    const { TusUploads } = await import('@studiovault/ingest');
    const { removed } = await t.app.get(TusUploads).expireAbandoned();
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(stagingFiles(primary)).not.toContain(`${id}.part`);
    expect(stagingFiles(mirror)).not.toContain(`${id}.part`);
    expect((await pg.query('SELECT state FROM uploads WHERE id = $1', [id])).rows[0].state).toBe('aborted');
    await pg.end();
    await t.http().head(`/files/${id}`).set('Tus-Resumable', '1.0.0').auth(t.admin, { type: 'bearer' }).expect(404);
  });

  it('sweeps staging files that no upload will finish (a crash brought back a sealed part), and keeps a paused upload', async () => {
    const paused = await create({ cardId, relativePath: 'DCIM/PAUSED.JPG' }, 1000).expect(201);
    const pausedId = paused.headers.location.split('/').pop()!;
    await patch(pausedId, 0, randomBytes(300)).expect(204);
    // a part whose upload is unknown (sealed and removed before a crash undid the removal), two days old
    const orphan = join(primary, '.studiovault', 'staging', 'deadbeefdeadbeefdeadbeefdeadbeef.part');
    writeFileSync(orphan, 'left over');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(orphan, twoDaysAgo, twoDaysAgo);
    utimesSync(join(primary, '.studiovault', 'staging', `${pausedId}.part`), twoDaysAgo, twoDaysAgo);
    const { TusUploads } = await import('@studiovault/ingest');
    await t.app.get(TusUploads).expireAbandoned();
    expect(stagingFiles(primary)).not.toContain('deadbeefdeadbeefdeadbeefdeadbeef.part');
    expect(stagingFiles(primary)).toContain(`${pausedId}.part`); // paused two days, still resumable
    const head = await t.http().head(`/files/${pausedId}`).set('Tus-Resumable', '1.0.0').auth(t.admin, { type: 'bearer' }).expect(200);
    expect(head.headers['upload-offset']).toBe('300');
  });

  it('starts an upload again at byte 0 when its new staging file was lost (a crash before its first fsync)', async () => {
    const created = await create({ cardId, relativePath: 'DCIM/LOSTPART.JPG' }, 500).expect(201);
    const id = created.headers.location.split('/').pop()!;
    rmSync(join(primary, '.studiovault', 'staging', `${id}.part`));
    rmSync(join(mirror, '.studiovault', 'staging', `${id}.part`));
    const head = await t.http().head(`/files/${id}`).set('Tus-Resumable', '1.0.0').auth(t.admin, { type: 'bearer' }).expect(200);
    expect(head.headers['upload-offset']).toBe('0');
    const data = randomBytes(500);
    await patch(id, 0, data).expect(204);
    expect(readFileSync(join(primary, '.studiovault', 'staging', `${id}.part`)).equals(data)).toBe(true);
    expect(readFileSync(join(mirror, '.studiovault', 'staging', `${id}.part`)).equals(data)).toBe(true);
  });

  it('refuses a card that does not fit, naming the volume and the bytes missing', async () => {
    const res = await t
      .http()
      .post('/api/projects/faults/cards')
      .auth(t.admin, { type: 'bearer' })
      .send({ label: 'HUGE', files: 1, bytes: 2 ** 50 })
      .expect(507);
    expect(res.body.code).toBe('INSUFFICIENT_STORAGE');
    expect(res.body.message).toMatch(/does not fit on the (primary|mirror) volume \(.+\): .+ missing/);
    const list = await t.http().get('/api/projects/faults/cards').auth(t.admin, { type: 'bearer' }).expect(200);
    expect(list.body.map((c: { label: string }) => c.label)).not.toContain('HUGE');
  });

  it('with the mirror offline, lands files as "copied, 1 of 2", and copies and verifies them when it returns', async () => {
    const c = (
      await t
        .http()
        .post('/api/projects/faults/cards')
        .auth(t.admin, { type: 'bearer' })
        .send({ label: 'OFF1', files: 1, bytes: 1 })
        .expect(201)
    ).body.id;
    renameSync(mirror, `${mirror}-unplugged`); // the USB drive is pulled
    await t.app.get(VolumesService).check();
    const data = randomBytes(200_000);
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: c, relativePath: 'DCIM/OFF.JPG', data });
    const seal = await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, { type: 'bearer' })
      .send(sourceHashes(data))
      .expect(200);
    const [f] = (await t.http().get(`/api/cards/${c}/files`).auth(t.admin, { type: 'bearer' })).body.items;
    expect(f.protection).toBe('copied');
    expect(f.copies.find((x: { volume: string }) => x.volume === 'mirror').state).toBe('missing');
    await new Promise((r) => setTimeout(r, 1500));
    const stillCopied = await card(c);
    expect(stillCopied.verdict.safe).toBe(false);
    expect(stillCopied.levels.copied).toBe(1);
    renameSync(`${mirror}-unplugged`, mirror); // plugged back in
    await t.app.get(VolumesService).check(); // what the 30 s volume check does
    await waitFor(
      () => card(c),
      (x) => x.state === 'verified',
      30_000,
    );
    expect(readFileSync(join(mirror, seal.body.storedPath)).equals(data)).toBe(true);
  });

  it('fails a file cleanly when a volume fills mid-ingest, reporting which one, and keeps what is resumable', async () => {
    // A 4 MiB tmpfs as the mirror: the file below does not fit.
    const small = await mkdtemp('/dev/shm/sv-small-');
    const small2 = join(tmpdir(), `sv-full-${Date.now()}`);
    await mkdir(small2);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small2]);
    try {
      const t2 = await startIngestApp({
        STUDIOVAULT_PRIMARY_ROOT: small,
        STUDIOVAULT_MIRROR_ROOT: small2,
        STUDIOVAULT_SPACE_MARGIN_MB: '0',
      });
      try {
        await t2.http().post('/api/projects').auth(t2.admin, { type: 'bearer' }).send({ name: 'Full', slug: 'full' }).expect(201);
        const c = (
          await t2
            .http()
            .post('/api/projects/full/cards')
            .auth(t2.admin, { type: 'bearer' })
            .send({ label: 'FULL', files: 1, bytes: 1024 })
            .expect(201)
        ).body.id;
        // The file fits when its upload is created (the space check at creation lets it in); then
        // something else takes the mirror's room, and the write runs out of it.
        const data = randomBytes(3 * 1024 * 1024);
        const created = await t2
          .http()
          .post('/files')
          .set('Tus-Resumable', '1.0.0')
          .set('Upload-Length', String(data.length))
          .set('Upload-Metadata', metadataHeader({ cardId: c, relativePath: 'DCIM/BIG.MP4' }))
          .auth(t2.admin, { type: 'bearer' })
          .expect(201);
        const id = created.headers.location.split('/').pop()!;
        writeFileSync(join(small2, 'filler'), randomBytes(2.5 * 1024 * 1024));
        let res;
        for (let offset = 0; offset < data.length; offset += 1024 * 1024) {
          res = await t2
            .http()
            .patch(`/files/${id}`)
            .set('Tus-Resumable', '1.0.0')
            .set('Upload-Offset', String(offset))
            .set('Content-Type', 'application/offset+octet-stream')
            .auth(t2.admin, { type: 'bearer' })
            .send(data.subarray(offset, offset + 1024 * 1024));
          if (res.status !== 204) break;
        }
        expect(res?.status).toBe(507);
        const body = JSON.parse(res!.text);
        expect(body.code).toBe('INSUFFICIENT_STORAGE');
        expect(body.message).toMatch(/mirror volume is full/);
        const status = (await t2.http().get(`/api/cards/${c}`).auth(t2.admin, { type: 'bearer' })).body;
        expect(status.levels.verified).toBe(0);
        expect(status.verdict.safe).toBe(false);
        // both staging files end at the same, resumable offset
        const parts = [small, small2].map((r) =>
          readdirSync(join(r, '.studiovault/staging')).map((n) => statSync(join(r, '.studiovault/staging', n)).size),
        );
        const [[p], [m]] = parts;
        expect(p).toBe(m);
        expect(p).toBeGreaterThan(0);
        expect(p).toBeLessThan(data.length);
      } finally {
        await t2.close();
      }
    } finally {
      execFileSync('umount', [small2]);
      await rm(small2, { recursive: true, force: true });
      await rm(small, { recursive: true, force: true });
    }
  }, 60_000);
});
