/**
 * Health and metrics over HTTP against the real API (in-process worker, a real Postgres, two
 * volumes on two devices): readiness names each volume, its free space and the job queue; a
 * volume moved away makes it "degraded" with the reason and HTTP 200 (a pulled USB disk is not a
 * reason to restart the server); the Prometheus gauges follow the catalog and the volumes.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';

const FILES: Record<string, Buffer> = {
  'DCIM/IMG_0001.JPG': Buffer.from('first image bytes'),
  'DCIM/IMG_0002.JPG': Buffer.from('second image bytes'),
  'DCIM/IMG_0003.JPG': Buffer.from('third image bytes'),
};

let t: IngestApp;
let db: DataSource;
let primary: string;
let mirror: string;
const admin = () => ({ Authorization: `Bearer ${t.admin}` });
const api = () => t.http();

/** One gauge's value in the Prometheus text (null: not there). */
function gauge(text: string, name: string, labels = ''): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}
async function metrics(): Promise<string> {
  return (await api().get('/metrics').expect(200)).text;
}

beforeAll(async () => {
  primary = await mkdtemp(join(tmpdir(), 'sv-health-primary-')); // the temp dir's disk
  mirror = await mkdtemp('/dev/shm/sv-health-mirror-'); // tmpfs: another device
  t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
  db = t.app.get(DataSource);
}, 120_000);

afterAll(async () => {
  await t?.close();
  for (const d of [primary, mirror]) if (d) await rm(d, { recursive: true, force: true });
});

describe('health and metrics', () => {
  it('GET /api/health: ok, with the database, each volume online with its space, and the job queue', async () => {
    const res = await api().get('/api/health').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      problems: [],
      database: { status: 'up' },
      jobs: { started: true, role: 'worker', reachable: true, queued: expect.any(Number) },
    });
    expect(res.body.volumes).toEqual([
      { role: 'mirror', state: 'online', reason: null, freeBytes: expect.any(Number), totalBytes: expect.any(Number) },
      { role: 'primary', state: 'online', reason: null, freeBytes: expect.any(Number), totalBytes: expect.any(Number) },
    ]);
    for (const v of res.body.volumes) expect(v.freeBytes).toBeGreaterThan(0);
    for (const v of res.body.volumes) expect(v.totalBytes).toBeGreaterThanOrEqual(v.freeBytes);
    await api().get('/api/health/live').expect(200, { status: 'ok' });
  });

  it('after an ingest, /metrics has files per level, files at risk, the oldest unverified file and each volume', async () => {
    await api().post('/api/projects').set(admin()).send({ name: 'Health', slug: 'health', type: 'wedding' }).expect(201);
    const card = await api()
      .post('/api/projects/health/cards')
      .set(admin())
      .send({ label: 'A001', files: Object.keys(FILES).length, bytes: Object.values(FILES).reduce((a, b) => a + b.length, 0) })
      .expect(201);
    for (const [path, data] of Object.entries(FILES)) {
      const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: card.body.id, relativePath: path, data });
      await api()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .set(admin())
        .send(sourceHashes(data))
        .expect(200);
    }
    await waitFor(
      async () => (await api().get(`/api/cards/${card.body.id}`).set(admin()).expect(200)).body.levels.verified,
      (n) => n === 3,
      60_000,
    );
    // Gauges are computed at scrape time with a short cache: wait for the scrape that sees the ingest.
    let text = await waitFor(metrics, (m) => gauge(m, 'studiovault_files', '{level="verified"}') === 3, 30_000);
    expect(gauge(text, 'studiovault_files', '{level="at_risk"}')).toBe(0);
    expect(gauge(text, 'studiovault_files', '{level="copied"}')).toBe(0);
    expect(gauge(text, 'studiovault_files_at_risk')).toBe(0);
    expect(gauge(text, 'studiovault_oldest_unverified_file_age_seconds')).toBe(0);
    expect(gauge(text, 'studiovault_volume_online', '{role="primary"}')).toBe(1);
    expect(gauge(text, 'studiovault_volume_online', '{role="mirror"}')).toBe(1);
    expect(gauge(text, 'studiovault_volume_free_bytes', '{role="mirror"}')).toBeGreaterThan(0);
    expect(text).toMatch(/# TYPE studiovault_files gauge/);

    // One file found damaged, one written an hour ago and still not verified.
    await db.query(`UPDATE assets SET protection = 'at_risk' WHERE relative_path = 'DCIM/IMG_0001.JPG'`);
    await db.query(
      `UPDATE assets SET protection = 'copied', created_at = now() - interval '1 hour' WHERE relative_path = 'DCIM/IMG_0002.JPG'`,
    );
    text = await waitFor(metrics, (m) => gauge(m, 'studiovault_files_at_risk') === 1, 30_000);
    expect(gauge(text, 'studiovault_files', '{level="verified"}')).toBe(1);
    expect(gauge(text, 'studiovault_files', '{level="copied"}')).toBe(1);
    expect(gauge(text, 'studiovault_files', '{level="at_risk"}')).toBe(1);
    const age = gauge(text, 'studiovault_oldest_unverified_file_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(3600);
    expect(age).toBeLessThan(3600 + 120);
  }, 120_000);

  it('the mirror folder moved away: HTTP 200, "degraded", the mirror offline with the reason; the gauge says 0; moved back: ok', async () => {
    await rename(mirror, `${mirror}-away`);
    try {
      const res = await api().get('/api/health').expect(200);
      expect(res.body).toMatchObject({ status: 'degraded', database: { status: 'up' }, jobs: { started: true, reachable: true } });
      expect(res.body.problems).toEqual([`mirror volume offline: root missing at ${mirror}`]);
      expect(res.body.volumes).toEqual([
        { role: 'mirror', state: 'offline', reason: `root missing at ${mirror}`, freeBytes: null, totalBytes: null },
        expect.objectContaining({ role: 'primary', state: 'online', reason: null }),
      ]);
      const text = await waitFor(metrics, (m) => gauge(m, 'studiovault_volume_online', '{role="mirror"}') === 0, 30_000);
      expect(gauge(text, 'studiovault_volume_online', '{role="primary"}')).toBe(1);
      expect(gauge(text, 'studiovault_volume_free_bytes', '{role="mirror"}')).toBeNull();
    } finally {
      await rename(`${mirror}-away`, mirror);
    }
    const back = await api().get('/api/health').expect(200);
    expect(back.body).toMatchObject({ status: 'ok', problems: [] });
  }, 90_000);
});
