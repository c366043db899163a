import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { Client } from 'pg';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { freePort, requireBuild, ServerProcess, startServer, waitForHealth } from '../server/server-process';
import { Rgw, startRgw, stopRgw } from './rgw';

const MiB = 1024 * 1024;

async function json(base: string, path: string, token: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

describe('off-site: the server is killed in the middle of a multipart upload', () => {
  let db: TestDatabase;
  let pg: Client;
  let dataDir: string;
  let mirror: string;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  let base: string;
  let rgw: Rgw;

  beforeAll(async () => {
    requireBuild();
    rgw = startRgw();
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-offsite-restart-'));
    await chmod(dataDir, 0o755);
    mirror = await mkdtemp('/dev/shm/sv-offsite-restart-mirror-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: join(dataDir, 'primary'),
      STUDIOVAULT_MIRROR_ROOT: mirror,
      STUDIOVAULT_SPACE_MARGIN_MB: '1',
      STUDIOVAULT_SECRET_KEY: 'a-test-secret-key-of-at-least-32-characters',
      STUDIOVAULT_ADMIN_EMAIL: 'owner@studio.test',
      STUDIOVAULT_ADMIN_PASSWORD: 'a long headless password',
      LOG_LEVEL: 'info',
    };
  }, 240_000);
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await pg?.end();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  });

  it('resumes the upload after the restart without re-sending its finished parts, and ends immutable', async () => {
    server = startServer(env);
    await waitForHealth(base, server);
    const token = (
      await json(base, '/api/auth/token', '', {
        method: 'POST',
        body: JSON.stringify({ email: 'owner@studio.test', password: 'a long headless password', tokenName: 'cli' }),
      })
    ).token as string;
    const bucket = await rgw.bucket();
    // A cap of 8 MB/s makes the 96 MiB clip take ~12 s: time to pull the plug mid-way.
    await json(base, '/api/backup/settings', token, {
      method: 'PUT',
      body: JSON.stringify({ schedule: '0 1 * * *', timezone: 'UTC', windowEnd: null, bandwidthMBps: 8, onIngest: true }),
    });
    await json(base, '/api/targets', token, {
      method: 'POST',
      body: JSON.stringify({
        name: 'rgw',
        kind: 's3',
        endpoint: rgw.endpoint,
        region: rgw.region,
        bucket,
        pathStyle: true,
        accessKeyId: rgw.accessKeyId,
        secretAccessKey: rgw.secretAccessKey,
      }),
    });
    await json(base, '/api/projects', token, { method: 'POST', body: JSON.stringify({ name: 'Eve', slug: 'eve', type: 'portrait' }) });
    const clip = randomBytes(96 * MiB);
    const card = await json(base, '/api/projects/eve/cards', token, {
      method: 'POST',
      body: JSON.stringify({ label: 'V001', files: 1, bytes: clip.length }),
    });
    const { url } = await tusUpload({ base, token, cardId: card.id, relativePath: 'CLIP/C0001.MP4', data: clip });
    await json(base, `/api/uploads/${uploadId(url)}/seal`, token, { method: 'POST', body: JSON.stringify(sourceHashes(clip)) });

    const before = await waitFor(
      async () => (await pg.query(`SELECT upload_id, parts_done FROM offsite_multipart`)).rows,
      (rows) => rows.length === 1 && rows[0].parts_done >= 2,
      90_000,
    );
    server.child.kill('SIGKILL');
    await server.exited;

    server = startServer(env);
    await waitForHealth(base, server);
    const done = await waitFor(
      async () => (await json(base, `/api/cards/${card.id}`, token)).levels,
      (levels) => levels.immutable === 1,
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- server after restart ---\n${server!.output().slice(-6000)}`);
    });
    expect(done.immutable).toBe(1);
    const reused = /multipart upload resumed, (\d+) part\(s\) reused, (\d+) sent/.exec(server.output());
    expect(reused).not.toBeNull();
    expect(Number(reused![1])).toBeGreaterThanOrEqual(before[0].parts_done);
    expect(Number(reused![1]) + Number(reused![2])).toBe(12); // 96 MiB in 8 MiB parts: nothing sent twice
    expect((await pg.query(`SELECT count(*)::int AS n FROM offsite_multipart`)).rows[0].n).toBe(0);
    const versions = await rgw.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'content/' }));
    expect(versions.Versions).toHaveLength(1);
    expect(versions.Versions![0].Size).toBe(clip.length);
  }, 300_000);
});

describe('off-site: the gateway stops in the middle of a run and comes back', () => {
  // Its own Ceph cluster: stopping its gateway disturbs no other test file.
  const rgwEnv = { RGW_DIR: join(tmpdir(), `studiovault-rgw-offsite-${process.pid}`), RGW_PORT: '7498' }; // its monitor takes 7499; s3.driver.spec's restart cluster has 7496-7497
  let rgw: Rgw;
  let t: IngestApp;
  let primary: string;
  let mirror: string;

  beforeAll(async () => {
    rgw = startRgw(rgwEnv);
    primary = await mkdtemp(join(tmpdir(), 'sv-gw-primary-'));
    mirror = await mkdtemp('/dev/shm/sv-gw-mirror-');
    t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    stopRgw(rgwEnv);
    await rm(primary, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  }, 60_000);

  it('retries, resumes and completes the run with every file locked and no error left', async () => {
    const admin = { Authorization: `Bearer ${t.admin}` };
    const bucket = await rgw.bucket();
    await t
      .http()
      .put('/api/backup/settings')
      .set(admin)
      .send({ schedule: '0 1 * * *', timezone: 'UTC', windowEnd: null, bandwidthMBps: 4, onIngest: false })
      .expect(200);
    const target = await t
      .http()
      .post('/api/targets')
      .set(admin)
      .send({
        name: 'rgw',
        kind: 's3',
        endpoint: rgw.endpoint,
        region: rgw.region,
        bucket,
        accessKeyId: rgw.accessKeyId,
        secretAccessKey: rgw.secretAccessKey,
      })
      .expect(201);
    await t.http().post('/api/projects').set(admin).send({ name: 'Fay', slug: 'fay', type: 'event' }).expect(201);
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`DCIM/IMG_${1000 + i}.CR3`, randomBytes(2 * MiB)]));
    const card = (
      await t
        .http()
        .post('/api/projects/fay/cards')
        .set(admin)
        .send({ label: 'G001', files: 10, bytes: 20 * MiB })
        .expect(201)
    ).body;
    for (const [path, data] of Object.entries(files)) {
      const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: card.id, relativePath: path, data });
      await t
        .http()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .set(admin)
        .send(sourceHashes(data))
        .expect(200);
    }
    await waitFor(
      async () => (await t.http().get(`/api/cards/${card.id}`).set(admin)).body.levels,
      (l) => l.verified === 10,
      60_000,
    );
    const [run] = (await t.http().post('/api/backup/runs').set(admin).send({ targetId: target.body.target.id }).expect(200)).body;
    // At 4 MB/s the 10 × 2 MiB take ~5 s: stop the gateway after the first files land.
    await waitFor(
      async () => (await t.http().get(`/api/backup/runs/${run.id}`).set(admin)).body.files,
      (n) => n >= 2,
      60_000,
    );
    rgw.stopGateway();
    await new Promise((r) => setTimeout(r, 4000));
    rgw.startGateway();
    const done = await waitFor(
      async () => (await t.http().get(`/api/backup/runs/${run.id}`).set(admin)).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      150_000,
    );
    expect(done.errors).toEqual([]);
    expect(done).toMatchObject({ state: 'completed', errorCount: 0, files: 10, filesSkipped: 0 });
    const levels = (await t.http().get(`/api/cards/${card.id}`).set(admin)).body.levels;
    expect(levels.immutable).toBe(10);
    // (a retried PUT whose first try did land leaves a second identical version: harmless under content addressing)
    const versions = await rgw.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'content/' }));
    expect(new Set(versions.Versions!.map((v) => v.Key)).size).toBe(10);
  }, 300_000);
});
