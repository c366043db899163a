/**
 * Guards around restores and targets, over HTTP against the real API (in-process worker, a real
 * Postgres, two volumes): restore patterns that cannot freeze the server, restores and disk
 * targets only under the folders the installation allows, and target connection errors that
 * never echo what an endpoint answered.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';

const FILES: Record<string, Buffer> = {
  'DCIM/IMG_0001.JPG': Buffer.from('jpeg bytes one'),
  'DCIM/img_0002.jpg': Buffer.from('jpeg bytes two'),
  'DCIM/CLIP.MP4': Buffer.from('mp4 bytes'),
  [`DCIM/${'a'.repeat(30)}`]: Buffer.from('thirty a'),
};
/** A card named like a cron folder: restored into /etc it would have been /etc/cron.d/... */
const LABEL = 'cron.d';
const SLUG = 'guards';

let t: IngestApp;
let db: DataSource;
let primary: string;
let mirror: string;
let allowed: string;
let disks: string;
let keys: string;
let outside: string;
const admin = () => ({ Authorization: `Bearer ${t.admin}` });
const api = () => t.http();

async function restoreCount(): Promise<number> {
  return (await db.query(`SELECT count(*)::int AS n FROM restores`))[0].n;
}
async function audits(action: string): Promise<{ details: Record<string, unknown> }[]> {
  return db.query(`SELECT details FROM audit_events WHERE action = $1 ORDER BY id`, [action]);
}

beforeAll(async () => {
  primary = await mkdtemp(join(tmpdir(), 'sv-guard-primary-'));
  mirror = await mkdtemp('/dev/shm/sv-guard-mirror-');
  allowed = await mkdtemp(join(tmpdir(), 'sv-guard-restores-'));
  disks = await mkdtemp(join(tmpdir(), 'sv-guard-disks-'));
  keys = await mkdtemp(join(tmpdir(), 'sv-guard-keys-'));
  outside = await mkdtemp(join(tmpdir(), 'sv-guard-outside-'));
  t = await startIngestApp({
    STUDIOVAULT_PRIMARY_ROOT: primary,
    STUDIOVAULT_MIRROR_ROOT: mirror,
    STUDIOVAULT_RESTORE_ROOTS: allowed,
    STUDIOVAULT_DISK_TARGET_ROOTS: disks,
    STUDIOVAULT_KEY_DIR: keys,
  });
  db = t.app.get(DataSource);
  await api().post('/api/projects').set(admin()).send({ name: 'Guards', slug: SLUG, type: 'wedding' }).expect(201);
  const card = await api()
    .post(`/api/projects/${SLUG}/cards`)
    .set(admin())
    .send({ label: LABEL, files: Object.keys(FILES).length, bytes: Object.values(FILES).reduce((a, b) => a + b.length, 0) })
    .expect(201);
  for (const [path, data] of Object.entries(FILES)) {
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: card.body.id, relativePath: path, data });
    await api()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .set(admin())
      .send(sourceHashes(data))
      .expect(200);
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
  for (const d of [primary, mirror, allowed, disks, keys, outside]) if (d) await rm(d, { recursive: true, force: true });
});

describe('restore patterns over HTTP', () => {
  const plan = (pattern: string) => api().get(`/api/projects/${SLUG}/restore-plan`).query({ path: pattern }).set(admin());

  it('an exponential pattern answers at once with 400 INVALID_RESTORE_PATTERN, and a liveness probe meanwhile answers quickly', async () => {
    for (const pattern of ['+(a|aa)+(a|aa)+(a|aa)b', '+(a|aa)+(a|aa)+(a|aa)+(a|aa)+(a|aa)b']) {
      const t0 = Date.now();
      let liveMs = 0;
      const [res] = await Promise.all([
        plan(pattern),
        (async () => {
          const l0 = Date.now();
          await request(t.base).get('/api/health/live').expect(200);
          liveMs = Date.now() - l0;
        })(),
      ]);
      // minimatch took 3.4 s on the three groups and more than 20 s on the five, the probe waiting as long.
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(liveMs).toBeLessThan(1000);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_RESTORE_PATTERN', message: expect.stringMatching(/extended-glob syntax/) });
    }
  });

  it('a valid pattern with many wildcards against the 30-a name runs in linear time', async () => {
    const t0 = Date.now();
    const res = await plan(`${'*a'.repeat(31)}b`);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(res.status).toBe(404); // nothing matches; answered, not frozen
    expect((await plan(`DCIM/${'*a'.repeat(30)}`).expect(200)).body.files.map((f: { path: string }) => f.path)).toEqual([
      `DCIM/${'a'.repeat(30)}`,
    ]);
  });

  it('the rule of the CLI: any case, a name without "/" at any depth; too long or too many wildcards is 400', async () => {
    const paths = async (p: string) => (await plan(p).expect(200)).body.files.map((f: { path: string }) => f.path).sort();
    expect(await paths('*.JPG')).toEqual(['DCIM/IMG_0001.JPG', 'DCIM/img_0002.jpg']);
    expect(await paths('dcim/*.mp4')).toEqual(['DCIM/CLIP.MP4']);
    expect(await paths('DCIM')).toHaveLength(4);
    for (const bad of ['x'.repeat(513), `${'*'.repeat(1)}${'?'.repeat(40)}`, '*.{jpg,mp4}'])
      expect((await plan(bad).expect(400)).body.code).toBe('INVALID_RESTORE_PATTERN');
  });
});

describe('restores only into allowed folders', () => {
  const start = (destination: string) => api().post('/api/restores').set(admin()).send({ project: SLUG, destination });

  it('lists the allowed folders to an admin', async () => {
    const res = await api().get('/api/settings/allowed-folders').set(admin()).expect(200);
    expect(res.body).toEqual({ restoreRoots: [allowed], diskTargetRoots: [disks] });
  });

  it.each([
    ['/etc', () => '/etc'],
    ['/root', () => '/root'],
    ['a new folder in /root', () => '/root/sv-guard-restore'],
    ['the primary volume', () => primary],
    ['a folder inside the primary volume', () => join(primary, 'restore-here')],
    ['the mirror volume', () => mirror],
    ['a folder outside the allowed ones', () => join(outside, 'r')],
    ['a ".." escape from an allowed folder', () => `${allowed}/../${outside.split('/').pop()}/dotdot`],
    ["an allowed folder's parent", () => join(allowed, '..')],
  ])('refuses %s: 403 RESTORE_DESTINATION_NOT_ALLOWED, nothing written', async (_what, dest) => {
    const before = await restoreCount();
    const res = await start(dest());
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('RESTORE_DESTINATION_NOT_ALLOWED');
    expect(await restoreCount()).toBe(before);
    expect(existsSync(join(dest(), LABEL, 'DCIM'))).toBe(false); // /etc/cron.d exists; nothing of ours in it
    expect(existsSync('/root/sv-guard-restore')).toBe(false);
    expect(existsSync(join(primary, 'restore-here'))).toBe(false);
    expect(existsSync(join(outside, 'dotdot'))).toBe(false);
  });

  it('refuses a symlink inside an allowed folder that leads to /etc (or elsewhere), at any depth', async () => {
    await symlink('/etc', join(allowed, 'to-etc'));
    await symlink(outside, join(allowed, 'to-outside'));
    for (const dest of [join(allowed, 'to-etc'), join(allowed, 'to-etc', 'sv-guard'), join(allowed, 'to-outside', 'x', 'y')]) {
      const res = await start(dest);
      expect({ dest, status: res.status, code: res.body.code }).toEqual({ dest, status: 403, code: 'RESTORE_DESTINATION_NOT_ALLOWED' });
    }
    expect(existsSync('/etc/cron.d/IMG_0001.JPG')).toBe(false);
    expect(existsSync('/etc/sv-guard')).toBe(false);
    expect(existsSync(join(outside, 'x'))).toBe(false);
  });

  it('restores into a new folder below an allowed one: every file, verified', async () => {
    const dest = join(allowed, 'studio', 'guards-1');
    const started = await start(dest).expect(200);
    expect(started.body.destination).toBe(dest);
    const done = await waitFor(
      async () => (await api().get(`/api/restores/${started.body.id}`).set(admin()).expect(200)).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      60_000,
    );
    expect(done).toMatchObject({ state: 'completed', restored: 4, failed: 0 });
    for (const [path, data] of Object.entries(FILES)) expect((await readFile(join(dest, LABEL, path))).equals(data)).toBe(true);
  });

  it('a folder swapped for a symlink after the restore was accepted is not followed', async () => {
    const dest = join(allowed, 'swapped');
    const { RestoreService } = await import('@studiovault/recovery');
    const service = t.app.get(RestoreService);
    // Started the way the endpoint does, the job kept from running until the folder is swapped.
    const row = await start(dest).expect(200);
    await waitFor(
      async () => (await api().get(`/api/restores/${row.body.id}`).set(admin()).expect(200)).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      60_000,
    );
    await rm(dest, { recursive: true });
    await symlink(outside, dest);
    await db.query(`UPDATE restores SET state = 'queued', restored = 0, verified = 0, done_files = 0 WHERE id = $1`, [row.body.id]);
    await service.run({ restoreId: row.body.id });
    const after = (await api().get(`/api/restores/${row.body.id}`).set(admin()).expect(200)).body;
    expect(after.state).toBe('failed');
    expect(after.message).toMatch(/symlink changed|not inside an allowed folder/);
    expect(existsSync(join(outside, LABEL))).toBe(false);
  });
});

describe('disk targets only in allowed folders', () => {
  const add = (name: string, path: string) => api().post('/api/targets').set(admin()).send({ kind: 'disk', name, path });

  it.each([
    ['/root/x', () => '/root/x', 403, 'TARGET_PATH_NOT_ALLOWED'],
    ['a folder inside the primary volume', () => join(primary, 'usb'), 403, 'TARGET_PATH_NOT_ALLOWED'],
    ['an existing folder outside the allowed ones', () => outside, 403, 'TARGET_PATH_NOT_ALLOWED'],
    ['a folder that does not exist (never created)', () => join(disks, 'not-mounted'), 403, 'TARGET_PATH_NOT_ALLOWED'],
  ])('refuses %s', async (_what, path, status, code) => {
    if (path().startsWith(primary)) await mkdir(path(), { recursive: true });
    const res = await add(`t-${Math.random()}`.slice(0, 20), path());
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(existsSync('/root/x')).toBe(false);
    expect(existsSync(join(disks, 'not-mounted'))).toBe(false);
    expect(existsSync(join(primary, 'usb', 'studiovault-target.json'))).toBe(false);
    expect(existsSync(join(outside, 'studiovault-target.json'))).toBe(false);
    expect((await db.query(`SELECT count(*)::int AS n FROM offsite_targets`))[0].n).toBe(0);
    const failed = await audits('target.create.failed');
    expect(failed[failed.length - 1].details).toMatchObject({ kind: 'disk', code });
  });

  it('adds an existing folder below an allowed one', async () => {
    await mkdir(join(disks, 'usb-1'));
    const res = await add('usb', join(disks, 'usb-1')).expect(201);
    expect(res.body.target.path).toBe(join(disks, 'usb-1'));
    expect(existsSync(join(disks, 'usb-1', 'studiovault-target.json'))).toBe(true);
    await api().delete(`/api/targets/${res.body.target.id}`).set(admin()).expect(204);
  });
});

describe('S3 target connection errors and secrets', () => {
  let hostile: Server;
  let endpoint: string;
  const PAGE = '<html><body><h1>Internal admin console</h1><p>db password: hunter2 at 10.1.2.3</p></body></html>';
  const XML = '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>internal-service-42 says: token=abcd1234</Message></Error>';
  let body = PAGE;
  let contentType = 'text/html';
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';

  beforeAll(async () => {
    hostile = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'Content-Type': contentType });
      res.end(body);
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => hostile.close(() => r())));

  const s3 = (extra: Record<string, unknown> = {}) => ({
    kind: 's3',
    name: 'hostile',
    endpoint,
    region: 'us-east-1',
    bucket: 'studio-backup',
    accessKeyId: 'AKIAHOSTILETEST0001',
    secretAccessKey: SECRET,
    immutable: false,
    ...extra,
  });

  it.each([
    ['an HTML page', PAGE, 'text/html', /the endpoint answered HTTP 403/],
    ["an S3 error whose message is the endpoint's text", XML, 'application/xml', /the endpoint answered HTTP 403 AccessDenied/],
  ])('a check answered with %s: a short classified message, never the body, never the secret; audited', async (_w, b, type, wording) => {
    body = b;
    contentType = type;
    const res = await api().post('/api/targets').set(admin()).send(s3());
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('TARGET_PREFLIGHT_FAILED');
    const text = JSON.stringify(res.body);
    expect(text).toMatch(wording);
    for (const leak of ['hunter2', '<html', 'Internal admin console', 'internal-service-42', 'abcd1234', SECRET, 'AKIAHOSTILETEST0001'])
      expect(text).not.toContain(leak);
    const failed = await audits('target.create.failed');
    expect(failed[failed.length - 1].details).toMatchObject({ name: 'hostile', kind: 's3', code: 'TARGET_PREFLIGHT_FAILED' });
    expect(JSON.stringify(failed)).not.toContain(SECRET);
    expect(JSON.stringify(failed)).not.toContain('hunter2');
  });

  it('a connection refused reads "could not connect"-like, with the code only', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const res = await api()
      .post('/api/targets')
      .set(admin())
      .send(s3({ endpoint: `http://127.0.0.1:${port}` }));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toMatch(/ECONNREFUSED/);
  });

  it('a secret key file is read only from STUDIOVAULT_KEY_DIR', async () => {
    await writeFile(join(outside, 'key'), SECRET);
    await writeFile(join(keys, 'key'), SECRET);
    await symlink(join(outside, 'key'), join(keys, 'link-out'));
    for (const file of ['/etc/passwd', join(outside, 'key'), join(keys, 'link-out'), join(keys, '..', outside.split('/').pop()!, 'key')]) {
      const res = await api()
        .post('/api/targets')
        .set(admin())
        .send(s3({ secretAccessKey: undefined, secretAccessKeyFile: file }));
      expect({ file, status: res.status, code: res.body.code }).toEqual({ file, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.details.join(' ')).toMatch(/not in the key folder/);
      expect(JSON.stringify(res.body)).not.toContain('root:x:0');
    }
    // A file in the key folder is accepted (the hostile endpoint then fails the connection test).
    const ok = await api()
      .post('/api/targets')
      .set(admin())
      .send(s3({ secretAccessKey: undefined, secretAccessKeyFile: join(keys, 'key') }));
    expect(ok.status).toBe(422);
  });

  it('changing the endpoint, bucket or region needs the secret again; a rename does not; failures are audited', async () => {
    const [{ id }] = await db.query(
      `INSERT INTO offsite_targets (name, kind, settings, lock_mode, immutable, rotates_offsite, enabled)
       VALUES ('saved', 's3', $1, 'GOVERNANCE', false, false, true) RETURNING id`,
      [JSON.stringify({ endpoint: 'https://s3.example.test', region: 'eu-1', bucket: 'studio-backup', accessKeyIdHint: '…0001' })],
    );
    // Its stored credentials, sealed as the service seals them.
    const { TargetsService } = await import('@studiovault/backup');
    const box = (t.app.get(TargetsService) as unknown as { credentialsBox(): { seal(c: object, id: string): Buffer } }).credentialsBox();
    await db.query(`UPDATE offsite_targets SET credentials_encrypted = $2 WHERE id = $1`, [
      id,
      box.seal({ accessKeyId: 'AKIAHOSTILETEST0001', secretAccessKey: SECRET }, id),
    ]);
    for (const change of [{ endpoint }, { bucket: 'other-bucket' }, { region: 'us-east-1' }, { endpoint, accessKeyId: 'AKIANEW' }]) {
      const res = await api().patch(`/api/targets/${id}`).set(admin()).send(change);
      expect({ change, status: res.status, code: res.body.code }).toEqual({ change, status: 400, code: 'TARGET_SECRET_REQUIRED' });
    }
    const failed = await audits('target.update.failed');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(failed[failed.length - 1].details).toMatchObject({ name: 'saved', code: 'TARGET_SECRET_REQUIRED' });
    // With the secret sent again the change goes on to its connection test (the hostile endpoint fails it).
    body = PAGE;
    const tested = await api().patch(`/api/targets/${id}`).set(admin()).send({ endpoint, accessKeyId: 'AKIANEW', secretAccessKey: SECRET });
    expect(tested.status).toBe(422);
    expect(JSON.stringify(tested.body)).not.toContain('hunter2');
    await api().patch(`/api/targets/${id}`).set(admin()).send({ name: 'renamed' }).expect(200);
  });
});
