import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { DataSource } from 'typeorm';
import { BackupService } from '@studiovault/backup';
import { JobName, JobQueue } from '@studiovault/jobs';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { Rgw, startRgw } from './rgw';

const MiB = 1024 * 1024;

/**
 * The off-site path end to end, on the real stack: ingest a card (tus, two volumes, MHL seal),
 * and the worker uploads it to Ceph RGW with Object Lock, reads every lock back, writes the
 * card's manifest and MHL, and the levels rise to "immutable".
 */
describe('off-site backup to Ceph RGW with Object Lock', () => {
  let t: IngestApp;
  let rgw: Rgw;
  let primary: string;
  let mirror: string;
  let bucket: string;
  let targetId: string;
  let db: DataSource;

  const api = () => t.http();
  const admin = () => ({ Authorization: `Bearer ${t.admin}` });

  beforeAll(async () => {
    rgw = startRgw();
    primary = await mkdtemp(join(tmpdir(), 'sv-off-primary-'));
    mirror = await mkdtemp('/dev/shm/sv-off-mirror-');
    t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
    db = t.app.get(DataSource);
    await api()
      .post('/api/projects')
      .set(admin())
      .send({ name: 'Cleo & Dan', slug: 'cleo-dan', shootDate: '2026-10-03', type: 'wedding' })
      .expect(201);
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    await rm(primary, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  });

  async function ingestCard(label: string, files: Record<string, Buffer>): Promise<string> {
    const total = Object.values(files).reduce((a, b) => a + b.length, 0);
    const card = await api()
      .post('/api/projects/cleo-dan/cards')
      .set(admin())
      .send({ label, files: Object.keys(files).length, bytes: total });
    expect(card.status).toBe(201);
    for (const [path, data] of Object.entries(files)) {
      const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: card.body.id, relativePath: path, data });
      await api()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .set(admin())
        .send(sourceHashes(data))
        .expect(200);
    }
    return card.body.id;
  }
  const cardOf = async (id: string) => (await api().get(`/api/cards/${id}`).set(admin()).expect(200)).body;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const contentKey = (b: Buffer) => {
    const h = sha(b);
    return `studio/content/sha256/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`;
  };

  describe('adding a target', () => {
    const s3 = (over: Record<string, unknown> = {}) => ({
      name: 'RGW',
      kind: 's3',
      endpoint: rgw.endpoint,
      region: rgw.region,
      bucket,
      prefix: 'studio',
      pathStyle: true,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      ...over,
    });

    it('refuses a bucket without Object Lock for immutable backups, naming the check', async () => {
      const plain = await rgw.bucket({ objectLock: false });
      const res = await api()
        .post('/api/targets')
        .set(admin())
        .send(s3({ bucket: plain }));
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('TARGET_PREFLIGHT_FAILED');
      expect(res.body.message).toMatch(/Object Lock on/);
      expect(res.body.details.join('\n')).toMatch(/reachable: ok/);
      expect((await api().get('/api/targets').set(admin()).expect(200)).body).toEqual([]);
    });

    it('refuses wrong credentials with "credentials valid" failed, and never echoes a secret', async () => {
      bucket = await rgw.bucket();
      const res = await api()
        .post('/api/targets')
        .set(admin())
        .send(s3({ secretAccessKey: 'not-the-secret-at-all-0000' }));
      expect(res.status).toBe(422);
      expect(res.body.message).toMatch(/credentials valid/);
      expect(JSON.stringify(res.body)).not.toContain('not-the-secret-at-all-0000');
    });

    it('saves a good target with every check passed; the secret is encrypted at rest and never returned', async () => {
      const res = await api().post('/api/targets').set(admin()).send(s3());
      expect(res.status).toBe(201);
      expect(res.body.test.checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual([
        'reachable:ok',
        'credentials:ok',
        'bucket:ok',
        'versioning:ok',
        'objectLock:ok',
        'put:ok',
        'retention:ok',
      ]);
      targetId = res.body.target.id;
      expect(res.body.target).toMatchObject({
        kind: 's3',
        bucket,
        immutable: true,
        lockMode: 'GOVERNANCE',
        health: 'ok',
        secretSource: 'stored',
      });
      const listed = JSON.stringify((await api().get('/api/targets').set(admin()).expect(200)).body);
      for (const body of [JSON.stringify(res.body), listed]) {
        expect(body).not.toContain(rgw.secretAccessKey);
        expect(body).not.toContain(rgw.accessKeyId);
      }
      const [row] = await db.query(`SELECT credentials_encrypted, settings::text FROM offsite_targets WHERE id = $1`, [targetId]);
      expect(row.credentials_encrypted.toString('latin1')).not.toContain(rgw.secretAccessKey);
      expect(row.settings).not.toContain(rgw.secretAccessKey);
      const audit = JSON.stringify((await api().get('/api/audit').set(admin()).expect(200)).body);
      expect(audit).toContain('target.create');
      expect(audit).not.toContain(rgw.secretAccessKey);
    });

    it('a viewer cannot see targets', async () => {
      await api()
        .post('/api/users')
        .set(admin())
        .send({ email: 'v@studio.test', name: 'V', role: 'viewer', password: 'viewer-password-1' })
        .expect(201);
      const v = (await api().post('/api/auth/token').send({ email: 'v@studio.test', password: 'viewer-password-1', tokenName: 'v' })).body
        .token;
      await api().get('/api/targets').auth(v, { type: 'bearer' }).expect(403);
      await api().get('/api/backup/status').auth(v, { type: 'bearer' }).expect(200);
    });
  });

  describe('a verified card goes off-site by itself', () => {
    const files = {
      'DCIM/100CANON/IMG_0001.CR3': randomBytes(2 * MiB + 5),
      'DCIM/100CANON/IMG_0002.JPG': randomBytes(300_000),
      'DCIM/100CANON/IMG_0003.XMP': Buffer.from('<x:xmpmeta/>'),
      // above the 64 MiB threshold: a multipart upload of 16 MiB parts
      'PRIVATE/M4ROOT/CLIP/C0001.MP4': randomBytes(70 * MiB),
    };
    let cardId: string;

    it('uploads every file content-addressed, reads every lock back, and the card becomes immutable and safe', async () => {
      cardId = await ingestCard('A001', files);
      const done = await waitFor(
        () => cardOf(cardId),
        (c) => c.levels.immutable === 4,
        120_000,
      );
      expect(done.verdict.safe).toBe(true);
      expect(done.verdict.reason).toMatch(/off-site started/);

      for (const [path, data] of Object.entries(files)) {
        const key = contentKey(data);
        const head = await rgw.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        expect([path, head.ContentLength, head.Metadata?.sha256]).toEqual([path, data.length, sha(data)]);
        const ret = await rgw.client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: head.VersionId }));
        expect(ret.Retention?.Mode).toBe('GOVERNANCE');
        const days = (ret.Retention!.RetainUntilDate!.getTime() - Date.now()) / 86_400_000;
        // RAW/video/sidecar 1 year, JPEG 2 years (the defaults without a policy)
        expect(Math.round(days)).toBe(path.endsWith('.JPG') ? 730 : 365);
      }
      const copies = await db.query(
        `SELECT c.state, c.lock_mode, c.retain_until, c.observed_sha256 = a.sha256 AS same FROM copies c JOIN assets a ON a.id = c.asset_id
          WHERE a.card_id = $1 AND c.target_id IS NOT NULL`,
        [cardId],
      );
      expect(copies).toHaveLength(4);
      expect(copies.every((c: { state: string; same: boolean }) => c.state === 'immutable' && c.same)).toBe(true);

      // The card is immutable once its files' locks are read back; the run then still writes the card's manifest.
      const runs = await waitFor(
        async () => (await api().get('/api/backup/runs').set(admin()).expect(200)).body as { state: string; errors: unknown[] }[],
        (r) => r[0]?.state !== 'running' && r[0]?.state !== 'queued',
        60_000,
      );
      expect(runs[0].errors).toEqual([]);
      expect(runs[0]).toMatchObject({ trigger: 'ingest', state: 'completed', errorCount: 0, targetName: 'RGW' });
    }, 180_000);

    it('writes the card manifest and its ASC MHL history next to it, locked too', async () => {
      const prefix = 'studio/cards/2026/cleo-dan/A001/';
      const manifest = await waitFor(
        async () => rgw.client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}manifest.json` })).catch(() => null),
        (m) => m !== null,
        60_000,
      );
      const body = JSON.parse(await manifest!.Body!.transformToString());
      expect(body.card).toMatchObject({ label: 'A001', year: 2026 });
      expect(body.files).toHaveLength(4);
      for (const f of body.files) {
        const data = files[f.path as keyof typeof files];
        expect(f).toMatchObject({ size: data.length, sha256: sha(data), object: contentKey(data).replace('studio/', '') });
        expect(f.lock.mode).toBe('GOVERNANCE');
      }
      const ret = await rgw.client.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: `${prefix}manifest.json`, VersionId: manifest!.VersionId }),
      );
      expect(ret.Retention?.Mode).toBe('GOVERNANCE');
      const listed = await rgw.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${prefix}ascmhl/` }));
      const names = (listed.Versions ?? []).map((v) => v.Key!.slice(prefix.length));
      expect(names).toContain('ascmhl/ascmhl_chain.xml');
      expect(names.some((n) => /^ascmhl\/0001_A001_.*\.mhl$/.test(n))).toBe(true);
      expect(body.ascmhl.length).toBe(names.length);
    });

    it('a locked version cannot be deleted with the writer credential', async () => {
      const key = contentKey(files['DCIM/100CANON/IMG_0001.CR3']);
      const head = await rgw.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      await expect(rgw.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: head.VersionId }))).rejects.toMatchObject(
        {
          $metadata: { httpStatusCode: 403 },
        },
      );
    });

    it('a twin card (the second slot of the camera) costs no upload; the same card again uploads nothing', async () => {
      const twin = await ingestCard('B001', files);
      await waitFor(
        () => cardOf(twin),
        (c) => c.levels.immutable === 4 && c.verdict.safe,
        120_000,
      );
      const versions = await rgw.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'studio/content/' }));
      expect(versions.Versions).toHaveLength(4); // stored once
      await waitFor(
        async () =>
          rgw.client
            .send(new HeadObjectCommand({ Bucket: bucket, Key: 'studio/cards/2026/cleo-dan/B001/manifest.json' }))
            .catch(() => null),
        (m) => m !== null,
        60_000,
      );
    }, 180_000);

    it('a run by hand finds nothing to send; the nightly run exports the catalog, locked', async () => {
      // A request while the twin card's own run still finishes gets that run back (one run per target at a time):
      // wait for it, so this run is the manual one.
      await waitFor(
        async () => (await api().get('/api/backup/runs').set(admin()).expect(200)).body as { state: string }[],
        (runs) => runs.every((r) => r.state === 'completed' || r.state === 'failed'),
        60_000,
      );
      const [run] = (await api().post('/api/backup/runs').set(admin()).send({ targetId }).expect(200)).body;
      const done = await waitFor(
        async () => (await api().get(`/api/backup/runs/${run.id}`).set(admin()).expect(200)).body,
        (r) => r.state === 'completed',
        60_000,
      );
      expect(done.errors).toEqual([]);
      expect(done).toMatchObject({ files: 0, errorCount: 0, trigger: 'manual' });
      const exported = await rgw.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'studio/catalog/studiovault-catalog.json.gz' }));
      const lines = gunzipSync(Buffer.from(await exported.Body!.transformToByteArray()))
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0].format).toBe('studiovault.catalog-export');
      expect(lines.filter((l) => l.type === 'file')).toHaveLength(8);
      expect(
        lines
          .filter((l) => l.type === 'card')
          .map((l) => l.label)
          .sort(),
      ).toEqual(['A001', 'B001']);
      const ret = await rgw.client.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: 'studio/catalog/studiovault-catalog.json.gz', VersionId: exported.VersionId }),
      );
      expect(ret.Retention?.Mode).toBe('GOVERNANCE');
      const readme = await rgw.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'studio/README.txt' }));
      expect(await readme.Body!.transformToString()).toMatch(/restorable without StudioVault's/);

      const status = (await api().get('/api/backup/status').set(admin()).expect(200)).body;
      expect(status.immutable.files).toBe(4); // the originals; the twins count with them
      expect(status.pending.files).toBe(0);
      expect(status.targets[0]).toMatchObject({ name: 'RGW', health: 'ok', activeRun: null });
    }, 120_000);
  });

  describe('runs', () => {
    it('a nightly run pauses at its window end and the next night resumes it', async () => {
      // Hold the worker off this run until it is set up: a queued run whose window already closed.
      const files = { 'DCIM/100CANON/IMG_0100.CR3': randomBytes(MiB), 'DCIM/100CANON/IMG_0101.CR3': randomBytes(MiB) };
      await api()
        .put('/api/backup/settings')
        .set(admin())
        .send({ schedule: '0 1 * * *', timezone: 'UTC', windowEnd: '07:00', bandwidthMBps: null, onIngest: false })
        .expect(200);
      const cardId = await ingestCard('C001', files);
      await waitFor(
        () => cardOf(cardId),
        (c) => c.levels.verified === 2,
        60_000,
      );
      const [{ id: runId }] = await db.query(
        `INSERT INTO backup_runs (target_id, trigger, state, window_end) VALUES ($1, 'nightly', 'queued', now() - interval '1 minute') RETURNING id`,
        [targetId],
      );
      await t.app.get(JobQueue).send(JobName.BackupRun, { targetId, runId });
      const paused = await waitFor(
        async () => (await api().get(`/api/backup/runs/${runId}`).set(admin()).expect(200)).body,
        (r) => r.state === 'paused',
      );
      expect(paused.message).toMatch(/window end/);
      expect((await cardOf(cardId)).levels.verified).toBe(2); // nothing sent after the window

      await t.app.get(JobQueue).send(JobName.BackupNightly, {});
      const resumed = await waitFor(
        async () => (await api().get(`/api/backup/runs/${runId}`).set(admin()).expect(200)).body,
        (r) => r.state === 'completed',
        60_000,
      );
      expect(resumed.errors).toEqual([]);
      expect(resumed).toMatchObject({ files: 2, errorCount: 0, trigger: 'nightly' });
      expect(new Date(resumed.windowEnd).getTime()).toBeGreaterThan(Date.now());
      expect((await cardOf(cardId)).levels.immutable).toBe(2);
    }, 120_000);

    it('two runs of one target at once: one works, the other steps aside; no file is uploaded twice', async () => {
      const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`DCIM/101CANON/IMG_${2000 + i}.CR3`, randomBytes(300_000)]));
      const cardId = await ingestCard('D001', files);
      await waitFor(
        () => cardOf(cardId),
        (c) => c.levels.verified === 12,
        60_000,
      );
      const svc = t.app.get(BackupService);
      const [a, b] = await Promise.all([
        svc.runJob({ targetId, trigger: 'manual' as never }),
        svc.runJob({ targetId, trigger: 'manual' as never }),
      ]);
      expect([a, b].filter((r) => (r as { busy?: boolean }).busy)).toHaveLength(1);
      await waitFor(
        () => cardOf(cardId),
        (c) => c.levels.immutable === 12,
        60_000,
      );
      for (const data of Object.values(files)) {
        const v = await rgw.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: contentKey(data) }));
        expect(v.Versions).toHaveLength(1);
      }
    }, 120_000);

    it('aborts a stale multipart upload that no catalog row resumes', async () => {
      const orphan = await rgw.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'studio/content/sha256/00/00/orphan' }));
      t.app.get(BackupService).staleMultipartMs = 0;
      const [run] = (await api().post('/api/backup/runs').set(admin()).send({ targetId }).expect(200)).body;
      await waitFor(
        async () => (await api().get(`/api/backup/runs/${run.id}`).set(admin()).expect(200)).body.state,
        (state) => state === 'completed',
        60_000,
      );
      const left = await rgw.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'studio/content/' }));
      expect((left.Uploads ?? []).map((u) => u.UploadId)).not.toContain(orphan.UploadId);
    });

    it('validates the backup settings', async () => {
      for (const bad of [
        { schedule: 'nope', timezone: 'UTC', windowEnd: null, bandwidthMBps: null, onIngest: true },
        { schedule: '0 1 * * *', timezone: 'Mars/Olympus', windowEnd: null, bandwidthMBps: null, onIngest: true },
        { schedule: '0 1 * * *', timezone: 'UTC', windowEnd: '25:00', bandwidthMBps: null, onIngest: true },
        { schedule: '0 1 * * *', timezone: 'UTC', windowEnd: null, bandwidthMBps: -3, onIngest: true },
        { schedule: '99 99 * * *', timezone: 'UTC', windowEnd: null, bandwidthMBps: null, onIngest: true },
      ]) {
        const res = await api().put('/api/backup/settings').set(admin()).send(bad);
        expect([JSON.stringify(bad), res.status, res.body.code]).toEqual([JSON.stringify(bad), 400, 'VALIDATION_FAILED']);
      }
      const ok = { schedule: '30 2 * * 1-5', timezone: 'Europe/Berlin', windowEnd: '06:30', bandwidthMBps: 12.5, onIngest: true };
      await api().put('/api/backup/settings').set(admin()).send(ok).expect(200);
      expect((await api().get('/api/backup/settings').set(admin()).expect(200)).body).toEqual(ok);
      const sched = await db.query(`SELECT cron, options->>'tz' AS tz FROM pgboss.schedule WHERE name = 'backup.nightly'`);
      expect(sched).toEqual([{ cron: '30 2 * * 1-5', tz: 'Europe/Berlin' }]);
    });
  });
});
