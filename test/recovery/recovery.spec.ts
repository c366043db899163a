import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectLegalHoldCommand, GetObjectRetentionCommand, HeadObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { DataSource } from 'typeorm';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { Rgw, startRgw } from '../offsite/rgw';
import { makeJpeg, makeMp4, makeTiffRaw } from './fixtures';

/**
 * Restore, drills, retention and expiry on the real stack: Postgres, two volumes, Ceph RGW with
 * Object Lock, and a disk target for the damage tests.
 */
describe('restore, restore drills, retention and expiry', () => {
  let t: IngestApp;
  let rgw: Rgw;
  let primary: string;
  let mirror: string;
  let scratch: string;
  let bucket: string;
  let s3Target: string;
  let db: DataSource;
  const admin = () => ({ Authorization: `Bearer ${t.admin}` });
  const api = () => t.http();

  const files: Record<string, Buffer> = {
    'DCIM/100NIKON/DSC_0001.DNG': makeTiffRaw(),
    'DCIM/100NIKON/DSC_0002.JPG': makeJpeg(),
    'DCIM/100NIKON/DSC_0003.JPG': makeJpeg(),
    'PRIVATE/CLIP/C0001.MP4': makeMp4(),
    'DCIM/100NIKON/DSC_0001.XMP': Buffer.from('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'),
  };
  const older: Record<string, Buffer> = { 'DCIM/OLD_0001.JPG': makeJpeg(), 'DCIM/OLD_0002.DNG': makeTiffRaw(50_000) };

  async function ingest(slug: string, label: string, content: Record<string, Buffer>): Promise<string> {
    const card = await api()
      .post(`/api/projects/${slug}/cards`)
      .set(admin())
      .send({ label, files: Object.keys(content).length, bytes: Object.values(content).reduce((a, b) => a + b.length, 0) });
    expect(card.status).toBe(201);
    for (const [path, data] of Object.entries(content)) {
      const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: card.body.id, relativePath: path, data });
      await api()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .set(admin())
        .send(sourceHashes(data))
        .expect(200);
    }
    return card.body.id;
  }
  const levels = async (cardId: string) => (await api().get(`/api/cards/${cardId}`).set(admin()).expect(200)).body.levels;
  async function restore(body: Record<string, unknown>) {
    const started = await api().post('/api/restores').set(admin()).send(body);
    if (started.status !== 200) return started;
    const done = await waitFor(
      async () => (await api().get(`/api/restores/${started.body.id}`).set(admin()).expect(200)).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      60_000,
    );
    return { status: 200, body: done };
  }
  async function drill() {
    const { id } = (await api().post('/api/drills').set(admin()).expect(200)).body;
    return waitFor(
      async () => (await api().get(`/api/drills/${id}`).set(admin()).expect(200)).body,
      (d) => d.state === 'passed' || d.state === 'failed',
      120_000,
    );
  }

  let cardA: string;
  let cardOld: string;

  beforeAll(async () => {
    rgw = startRgw();
    primary = await mkdtemp(join(tmpdir(), 'sv-rec-primary-'));
    mirror = await mkdtemp('/dev/shm/sv-rec-mirror-');
    scratch = await mkdtemp(join(tmpdir(), 'sv-rec-scratch-'));
    t = await startIngestApp({
      STUDIOVAULT_PRIMARY_ROOT: primary,
      STUDIOVAULT_MIRROR_ROOT: mirror,
      // Restores and the disk target go under the scratch folder, the only one allowed.
      STUDIOVAULT_RESTORE_ROOTS: scratch,
      STUDIOVAULT_DISK_TARGET_ROOTS: scratch,
    });
    db = t.app.get(DataSource);
    bucket = await rgw.bucket();
    s3Target = (
      await api()
        .post('/api/targets')
        .set(admin())
        .send({
          name: 'rgw',
          kind: 's3',
          endpoint: rgw.endpoint,
          region: rgw.region,
          bucket,
          accessKeyId: rgw.accessKeyId,
          secretAccessKey: rgw.secretAccessKey,
        })
        .expect(201)
    ).body.target.id;
    await api()
      .post('/api/projects')
      .set(admin())
      .send({ name: 'Old', slug: 'old', shootDate: '2025-05-01', type: 'portrait' })
      .expect(201);
    cardOld = await ingest('old', 'O001', older);
    await waitFor(
      () => levels(cardOld),
      (l) => l.immutable === 2,
      90_000,
    );
    await api()
      .post('/api/projects')
      .set(admin())
      .send({ name: 'Gina & Hal', slug: 'gina-hal', shootDate: '2026-11-20', type: 'wedding' })
      .expect(201);
    cardA = await ingest('gina-hal', 'A001', files);
    await waitFor(
      () => levels(cardA),
      (l) => l.immutable === 5,
      90_000,
    );
  }, 300_000);
  afterAll(async () => {
    await t?.close();
    for (const d of [primary, mirror, scratch]) await rm(d, { recursive: true, force: true });
  });

  describe('restore', () => {
    it.each(['primary', 'mirror', 'offsite'])('restores the project from the %s copy, every hash verified', async (from) => {
      const to = join(scratch, `from-${from}`);
      const r = await restore({ project: 'gina-hal', from, destination: to });
      expect(r.body.errors).toEqual([]);
      expect(r.body).toMatchObject({ state: 'completed', files: 5, restored: 5, verified: 5, failed: 0, source: from });
      for (const [path, data] of Object.entries(files)) expect(readFileSync(join(to, 'A001', path)).equals(data)).toBe(true);
      expect(readdirSync(join(to, 'A001', 'DCIM', '100NIKON')).some((n) => n.endsWith('.part'))).toBe(false);
    });

    it('selects a card and a glob; the plan names where each file goes', async () => {
      const plan = (await api().get('/api/projects/gina-hal/restore-plan?card=A001&path=DCIM/**/*.JPG').set(admin()).expect(200)).body;
      expect(plan.files.map((f: { restorePath: string }) => f.restorePath).sort()).toEqual([
        'A001/DCIM/100NIKON/DSC_0002.JPG',
        'A001/DCIM/100NIKON/DSC_0003.JPG',
      ]);
      const res = await fetch(`${t.base}/api/assets/${plan.files[0].assetId}/content?from=offsite`, { headers: admin() });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-restore-source')).toBe('offsite');
      expect(res.headers.get('x-checksum-sha256')).toBe(plan.files[0].sha256);
    });

    it('refuses existing files, an unwritable folder, a full disk and a date before the project, writing nothing', async () => {
      const onto = await restore({ project: 'gina-hal', destination: join(scratch, 'from-primary') });
      expect([onto.status, onto.body.code, onto.body.message]).toEqual([
        409,
        'CONFLICT',
        expect.stringMatching(/exist already.*Nothing was written/),
      ]);

      writeFileSync(join(scratch, 'a-file'), 'x');
      const unwritable = await restore({ project: 'gina-hal', destination: join(scratch, 'a-file', 'sub') });
      expect([unwritable.status, unwritable.body.message]).toEqual([400, expect.stringMatching(/Cannot write to/)]);

      const small = join(scratch, 'small');
      mkdirSync(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
      try {
        const full = await restore({ project: 'gina-hal', destination: small });
        expect([full.status, full.body.code, full.body.message]).toEqual([
          507,
          'INSUFFICIENT_STORAGE',
          expect.stringMatching(/bytes missing/),
        ]);
        expect(readdirSync(small)).toEqual([]);
      } finally {
        execFileSync('umount', [small]);
      }

      const early = await api().get('/api/projects/gina-hal/restore-plan?at=2001-01-01T00:00:00Z').set(admin());
      expect([early.status, early.body.message]).toEqual([400, expect.stringMatching(/did not exist at 2001-01-01/)]);
      await api().post('/api/restores').set(admin()).send({ project: 'gina-hal', destination: 'relative/path' }).expect(400);
    });
  });

  describe('drills', () => {
    it('passes with zero errors: restores the latest project and a sample, opens the files, checks every lock', async () => {
      const d = await drill();
      expect(d.errors).toEqual([]);
      expect(d).toMatchObject({ state: 'passed', errorCount: 0, project: 'gina-hal', deleteRefused: true, targetName: 'rgw' });
      expect(d.files).toBe(7); // the 5 of the latest project + the 2 older ones (sample)
      expect(d.locksChecked).toBe(7);
      expect(d.verdict).toMatch(/^Zero errors: 7 file\(s\)/);
      const kinds = d.opened.map((o: { kind: string; ok: boolean }) => `${o.kind}:${o.ok}`).sort();
      expect(kinds).toEqual(['jpeg:true', 'jpeg:true', 'jpeg:true', 'raw:true', 'raw:true', 'video:true']);
      const raw = d.opened.find((o: { path: string }) => o.path === 'A001/DCIM/100NIKON/DSC_0001.DNG');
      expect(raw.detail).toBe('embedded preview 160×120 decoded');
      expect(Buffer.from(raw.thumbnail, 'base64').subarray(0, 2).toString('hex')).toBe('ffd8');
      expect((await levels(cardA)).drilled).toBe(5);
    }, 150_000);

    it('catches a lock that is no longer in force, names the file and puts it at risk', async () => {
      const [copy] = await db.query(
        `SELECT c.location, c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id
          WHERE a.relative_path = 'DCIM/OLD_0001.JPG' AND c.target_id IS NOT NULL`,
      );
      // The root credential shortens a GOVERNANCE lock with bypass (what a drill must catch).
      await rgw.client.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: copy.location,
          VersionId: copy.version_id,
          BypassGovernanceRetention: true,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 2000) },
        }),
      );
      await new Promise((r) => setTimeout(r, 3000));
      await api()
        .put('/api/drills/settings')
        .set(admin())
        .send({ schedule: '0 3 1 * *', timezone: 'UTC', sampleSize: 50, openSize: 10 })
        .expect(200);
      const sched = await db.query(`SELECT cron, options->>'tz' AS tz FROM pgboss.schedule WHERE name = 'drill.run'`);
      expect(sched).toEqual([{ cron: '0 3 1 * *', tz: 'UTC' }]); // the monthly drill runs by itself
      const d = await drill();
      expect(d.state).toBe('failed');
      expect(d.errors).toEqual([
        {
          path: 'O001/DCIM/OLD_0001.JPG',
          check: 'lock',
          kind: 'lock_not_in_force',
          message: expect.stringMatching(/no retention in force/),
          advice: expect.any(String),
        },
      ]);
      expect(d.verdict).toMatch(/^1 error\(s\): O001\/DCIM\/OLD_0001.JPG: no retention in force/);
      expect((await levels(cardOld)).at_risk).toBe(1);
    }, 150_000);

    it('catches an off-site copy whose content no longer matches its hash (a damaged object on a disk target)', async () => {
      const disk = join(scratch, 'usb');
      mkdirSync(disk); // a mounted drive: the server never creates a disk target's folder
      const target = (await api().post('/api/targets').set(admin()).send({ name: 'usb', kind: 'disk', path: disk }).expect(201)).body
        .target;
      await api().patch(`/api/targets/${s3Target}`).set(admin()).send({ enabled: false }).expect(200);
      const [run] = (await api().post('/api/backup/runs').set(admin()).send({ targetId: target.id }).expect(200)).body;
      await waitFor(
        async () => (await api().get(`/api/backup/runs/${run.id}`).set(admin())).body.state,
        (s) => s === 'completed',
        60_000,
      );
      const [copy] = await db.query(
        `SELECT c.location, c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id
          WHERE a.relative_path = 'DCIM/100NIKON/DSC_0003.JPG' AND c.target_id = $1`,
        [target.id],
      );
      const data = join(disk, 'objects', `${copy.location}.versions`, `${copy.version_id}.data`);
      const bytes = readFileSync(data);
      bytes[100] ^= 0xff;
      writeFileSync(data, bytes);
      const d = await drill();
      expect(d.state).toBe('failed');
      const hashErrors = d.errors.filter((e: { check: string }) => e.check === 'hash');
      expect(hashErrors).toEqual([
        {
          path: 'gina-hal/A001/DCIM/100NIKON/DSC_0003.JPG',
          check: 'hash',
          kind: 'damaged_copy',
          message: expect.stringMatching(/damaged: content does not match the catalog/),
          advice: expect.stringMatching(/Repair it from a good copy/),
        },
      ]);
      await api().patch(`/api/targets/${target.id}`).set(admin()).send({ enabled: false }).expect(200);
      await api().patch(`/api/targets/${s3Target}`).set(admin()).send({ enabled: true }).expect(200);
    }, 150_000);
  });

  describe('retention policies, legal hold and expiry', () => {
    it('refuses a negative or absurd period', async () => {
      for (const bad of [
        { fileClass: 'raw', lockMode: 'GOVERNANCE', lockDays: -1, versionKeepDays: 400, localKeepDays: null },
        { fileClass: 'raw', lockMode: 'GOVERNANCE', lockDays: 40_000, versionKeepDays: 40_000, localKeepDays: null },
        { fileClass: 'raw', lockMode: 'GOVERNANCE', lockDays: 400, versionKeepDays: 100, localKeepDays: null },
      ]) {
        const res = await api().put('/api/retention/policies').set(admin()).send(bad);
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
    });

    it('lengthening a policy extends the locks already set; shortening does not touch them', async () => {
      await api()
        .put('/api/retention/policies')
        .set(admin())
        .send({ fileClass: 'raw', lockMode: 'GOVERNANCE', lockDays: 500, versionKeepDays: 600, localKeepDays: null })
        .expect(200);
      const key = async () =>
        (
          await db.query(
            `SELECT c.location, c.version_id, c.retain_until FROM copies c JOIN assets a ON a.id = c.asset_id
              WHERE a.relative_path = 'DCIM/100NIKON/DSC_0001.DNG' AND c.target_id = $1`,
            [s3Target],
          )
        )[0];
      const extended = await waitFor(key, (c) => (new Date(c.retain_until).getTime() - Date.now()) / 86_400_000 > 499, 60_000);
      const ret = await rgw.client.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: extended.location, VersionId: extended.version_id }),
      );
      expect(Math.round((ret.Retention!.RetainUntilDate!.getTime() - Date.now()) / 86_400_000)).toBe(500);

      await api()
        .put('/api/retention/policies')
        .set(admin())
        .send({ fileClass: 'raw', lockMode: 'GOVERNANCE', lockDays: 30, versionKeepDays: 30, localKeepDays: null })
        .expect(200);
      await new Promise((r) => setTimeout(r, 1500));
      const after = await rgw.client.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: extended.location, VersionId: extended.version_id }),
      );
      expect(Math.round((after.Retention!.RetainUntilDate!.getTime() - Date.now()) / 86_400_000)).toBe(500);
      const audit = JSON.stringify((await api().get('/api/audit').set(admin()).expect(200)).body);
      expect(audit).toContain('retention.policy');
    }, 90_000);

    it('a legal hold sets S3 legal hold on the project objects and blocks every expiry', async () => {
      await api().put('/api/projects/gina-hal/legal-hold').set(admin()).send({ on: true }).expect(400); // a reason is required
      await api().put('/api/projects/gina-hal/legal-hold').set(admin()).send({ on: true, reason: 'client dispute 2026-114' }).expect(200);
      const [copy] = await db.query(
        `SELECT c.location, c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id WHERE a.relative_path = 'PRIVATE/CLIP/C0001.MP4' AND c.target_id = $1`,
        [s3Target],
      );
      await waitFor(
        async () =>
          (
            await rgw.client
              .send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: copy.location, VersionId: copy.version_id }))
              .catch(() => null)
          )?.LegalHold?.Status,
        (s) => s === 'ON',
        60_000,
      );
      // Every class may leave the NAS at once: still nothing of a held project is offered.
      for (const fileClass of ['raw', 'image', 'video', 'sidecar'])
        await api()
          .put('/api/retention/policies')
          .set(admin())
          .send({ fileClass, lockMode: 'GOVERNANCE', lockDays: 365, versionKeepDays: 365, localKeepDays: 0 })
          .expect(200);
      const preview = (await api().post('/api/expiry/preview').set(admin()).expect(200)).body;
      expect(preview.items.filter((i: { path: string }) => i.path.startsWith('A001/'))).toEqual([]);
    }, 90_000);

    it('expiry removes only local copies the policy allows, keeps every locked version, and asks first', async () => {
      await api().put('/api/projects/gina-hal/legal-hold').set(admin()).send({ on: false }).expect(200);
      const preview = (await api().post('/api/expiry/preview').set(admin()).expect(200)).body;
      // drilled files of gina-hal, both local copies each; nothing off-site (every version is locked)
      expect(preview.offsiteVersions).toBe(0);
      expect(preview.localFiles).toBeGreaterThan(0);
      expect(preview.items.every((i: { kind: string }) => i.kind === 'local')).toBe(true);
      expect(new Set(preview.items.map((i: { path: string }) => i.path))).toEqual(
        new Set([
          'A001/DCIM/100NIKON/DSC_0001.DNG',
          'A001/DCIM/100NIKON/DSC_0002.JPG',
          'A001/PRIVATE/CLIP/C0001.MP4',
          'A001/DCIM/100NIKON/DSC_0001.XMP',
          'O001/DCIM/OLD_0002.DNG',
        ]),
      );
      expect(preview.localFiles).toBe(10); // both local copies of each
      // The at-risk old file (failed drill) and the damaged one (at risk) are never offered.
      expect(preview.items.some((i: { path: string }) => /OLD_0001|DSC_0003/.test(i.path))).toBe(false);
      const path = join(primary, '2026', 'gina-hal', 'A001', 'DCIM', '100NIKON', 'DSC_0002.JPG');
      expect(readFileSync(path).length).toBeGreaterThan(0); // nothing removed by a preview

      await api().post(`/api/expiry/${preview.id}/confirm`).set(admin()).expect(200);
      await api().post(`/api/expiry/${preview.id}/confirm`).set(admin()).expect(409); // once
      const done = await waitFor(
        async () => (await api().get(`/api/expiry/${preview.id}`).set(admin()).expect(200)).body,
        (e) => e.state === 'done',
        60_000,
      );
      expect(done.result.refused).toEqual([]);
      expect(done.result.removedLocal).toBe(preview.localFiles);
      expect(() => readFileSync(path)).toThrow(/ENOENT/);
      // still restorable from off-site
      const r = await restore({ project: 'gina-hal', card: 'A001', path: '**/DSC_0002.JPG', destination: join(scratch, 'after-expiry') });
      expect(r.body).toMatchObject({ state: 'completed', restored: 1, source: 'auto' });
      expect(
        readFileSync(join(scratch, 'after-expiry', 'A001', 'DCIM', '100NIKON', 'DSC_0002.JPG')).equals(files['DCIM/100NIKON/DSC_0002.JPG']),
      ).toBe(true);
      const audit = JSON.stringify((await api().get('/api/audit?limit=200').set(admin()).expect(200)).body);
      expect(audit).toContain('expiry.delete');
    }, 90_000);

    it('an off-site version past its lock and keep period goes only with the maintenance credential, only while another copy exists', async () => {
      // OLD_0001's lock ran out (the drill above caught it); its two local copies remain.
      const [copy] = await db.query(
        `SELECT c.id, c.location, c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id
          WHERE a.relative_path = 'DCIM/OLD_0001.JPG' AND c.target_id = $1`,
        [s3Target],
      );
      await db.query(`UPDATE copies SET retain_until = now() - interval '1 second' WHERE id = $1`, [copy.id]);
      await api()
        .put('/api/retention/policies')
        .set(admin())
        .send({ fileClass: 'image', lockMode: 'GOVERNANCE', lockDays: 0, versionKeepDays: 0, localKeepDays: null })
        .expect(200);
      const first = (await api().post('/api/expiry/preview').set(admin()).expect(200)).body;
      // On RGW: OLD_0001's version (lock over). On the disabled "usb" disk target: its unlocked image versions.
      const onRgw = (items: { kind: string; path: string; why: string }[]) => items.filter((i) => i.why.includes('"rgw"'));
      expect(onRgw(first.items)).toEqual([expect.objectContaining({ kind: 'offsite', path: 'O001/DCIM/OLD_0001.JPG' })]);
      const onUsb = first.items.length - 1;
      expect(first.items.every((i: { kind: string }) => i.kind === 'offsite')).toBe(true);
      await api().post(`/api/expiry/${first.id}/confirm`).set(admin()).expect(200);
      const refused = await waitFor(
        async () => (await api().get(`/api/expiry/${first.id}`).set(admin())).body,
        (e) => e.state === 'done',
        60_000,
      );
      expect(refused.result.refused).toEqual([{ path: 'O001/DCIM/OLD_0001.JPG', why: expect.stringMatching(/no maintenance credential/) }]);
      expect(refused.result.removedOffsite).toBe(onUsb);

      await api()
        .put(`/api/targets/${s3Target}/maintenance-credential`)
        .set(admin())
        .send({ accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey })
        .expect(204);
      const second = (await api().post('/api/expiry/preview').set(admin()).expect(200)).body;
      expect(second.items.map((i: { path: string }) => i.path)).toEqual(['O001/DCIM/OLD_0001.JPG']);
      await api().post(`/api/expiry/${second.id}/confirm`).set(admin()).expect(200);
      const done = await waitFor(
        async () => (await api().get(`/api/expiry/${second.id}`).set(admin())).body,
        (e) => e.state === 'done',
        60_000,
      );
      expect(done.result).toMatchObject({ removedOffsite: 1, refused: [] });
      await expect(
        rgw.client.send(new HeadObjectCommand({ Bucket: bucket, Key: copy.location, VersionId: copy.version_id })),
      ).rejects.toBeTruthy();
      // Every other image version on RGW is still locked: never offered, even under a 0-day policy.
    }, 90_000);
  });

  describe('a damaged local copy', () => {
    it('restore reads the next copy and reports the damaged one (marked, healed from the mirror); --from primary fails naming both hashes', async () => {
      const path = join(primary, '2026', 'gina-hal', 'A001', 'DCIM', '100NIKON', 'DSC_0003.JPG');
      const bytes = readFileSync(path);
      bytes[200] ^= 0xff;
      writeFileSync(path, bytes);
      const strict = await restore({
        project: 'gina-hal',
        path: '**/DSC_0003.JPG',
        from: 'primary',
        destination: join(scratch, 'damaged-strict'),
      });
      expect(strict.body).toMatchObject({ state: 'failed', restored: 0, failed: 1 });
      expect(strict.body.errors[0].message).toMatch(
        /primary copy: content does not match the catalog: got \d+ bytes, xxh64 [0-9a-f]{16}; expected \d+ bytes, xxh64 [0-9a-f]{16}/,
      );

      const auto = await restore({ project: 'gina-hal', path: '**/DSC_0003.JPG', destination: join(scratch, 'damaged-auto') });
      expect(auto.body).toMatchObject({ state: 'completed', restored: 1, failed: 0 });
      expect(
        readFileSync(join(scratch, 'damaged-auto', 'A001', 'DCIM', '100NIKON', 'DSC_0003.JPG')).equals(files['DCIM/100NIKON/DSC_0003.JPG']),
      ).toBe(true);
      // The restore told the catalog: a finding on the primary copy, healed from the mirror, the damaged bytes in quarantine.
      const [finding] = await waitFor(
        () =>
          db.query(
            `SELECT f.found_by, f.kind, f.outcome, f.healed_from, c.state FROM integrity_findings f JOIN assets a ON a.id = f.asset_id
               JOIN copies c ON c.id = f.copy_id WHERE a.relative_path = 'DCIM/100NIKON/DSC_0003.JPG' AND f.volume_role = 'primary'`,
          ) as Promise<Record<string, string>[]>,
        (rows) => rows.length === 1 && rows[0].outcome !== 'open',
        60_000,
      );
      expect(finding).toEqual({ found_by: 'restore', kind: 'mismatch', outcome: 'healed', healed_from: 'mirror', state: 'verified' });
      expect(readFileSync(path).equals(files['DCIM/100NIKON/DSC_0003.JPG'])).toBe(true);
      const none = await fetch(`${t.base}/api/assets/999999/content`, { headers: admin() });
      expect(none.status).toBe(404);
    });
  });
});
