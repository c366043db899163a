import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { HealService } from '@studiovault/integrity';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';

const YEAR = '2026';
jest.setTimeout(240_000);
const Q = '.studiovault-quarantine';

interface FileRow {
  id: string;
  relativePath: string;
  protection: string;
  protectionReason: string | null;
  copies: { volume: string; state: string; scrubResult: string | null; lastScrubbedAt: string | null }[];
  findings: { kind: string; volume: string; foundBy: string; outcome: string; healedFrom: string | null; quarantinePath: string | null }[];
}

/** Flips one byte of a file in place (same inode, same size). */
function flip(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] ^= 0xff;
  writeFileSync(path, b);
}

describe('scrub and self-heal: both volumes re-read from the device, damage healed from a good copy', () => {
  let t: IngestApp;
  let primary: string;
  let mirror: string;
  let disks: string;
  let editor: string;
  let viewer: string;
  let db: DataSource;
  let targetId: string;

  beforeAll(async () => {
    primary = await mkdtemp(join(tmpdir(), 'sv-scrub-primary-')); // ext4: O_DIRECT
    mirror = await mkdtemp('/dev/shm/sv-scrub-mirror-'); // tmpfs: another device
    disks = await mkdtemp(join(tmpdir(), 'sv-scrub-disks-'));
    t = await startIngestApp({
      STUDIOVAULT_PRIMARY_ROOT: primary,
      STUDIOVAULT_MIRROR_ROOT: mirror,
      STUDIOVAULT_DISK_TARGET_ROOTS: disks,
    });
    db = t.app.get(DataSource);
    for (const role of ['editor', 'viewer']) {
      await t
        .http()
        .post('/api/users')
        .auth(t.admin, { type: 'bearer' })
        .send({ email: `${role}@studio.test`, name: role, role, password: `${role}-password-1` })
        .expect(201);
    }
    const token = async (role: string) =>
      (
        await t
          .http()
          .post('/api/auth/token')
          .send({ email: `${role}@studio.test`, password: `${role}-password-1`, tokenName: role })
      ).body.token as string;
    editor = await token('editor');
    viewer = await token('viewer');
    for (const slug of ['scrub-a', 'scrub-b', 'scrub-c', 'scrub-rate'])
      await t
        .http()
        .post('/api/projects')
        .auth(editor, { type: 'bearer' })
        .send({ name: slug, slug, shootDate: `${YEAR}-05-01`, type: 'wedding' })
        .expect(201);
    // Safe to format = two verified local copies (no off-site target at first).
    await t.http().put('/api/settings/safe-to-format').auth(t.admin, { type: 'bearer' }).send({ rule: 'two_local' }).expect(200);
  });
  afterAll(async () => {
    await t.close();
    for (const d of [primary, mirror, disks]) await rm(d, { recursive: true, force: true });
  });

  const admin = () => ({ Authorization: `Bearer ${t.admin}` });
  const card = async (id: string) => (await t.http().get(`/api/cards/${id}`).auth(viewer, { type: 'bearer' }).expect(200)).body;
  const files = async (id: string): Promise<FileRow[]> =>
    (await t.http().get(`/api/cards/${id}/files`).auth(viewer, { type: 'bearer' }).expect(200)).body.items;
  const status = async () => (await t.http().get('/api/scrub/status').auth(viewer, { type: 'bearer' }).expect(200)).body;
  const audit = async (action: string) =>
    (await t.http().get(`/api/audit?action=${action}&limit=100`).set(admin()).expect(200)).body.items as {
      subjectId: string;
      details: Record<string, unknown>;
    }[];

  async function ingest(project: string, label: string, content: Record<string, Buffer>): Promise<string> {
    const total = Object.values(content).reduce((a, b) => a + b.length, 0);
    const res = await t
      .http()
      .post(`/api/projects/${project}/cards`)
      .auth(editor, { type: 'bearer' })
      .send({ label, files: Object.keys(content).length, bytes: total });
    if (res.status >= 300) throw new Error(JSON.stringify(res.body));
    const cardId = res.body.id as string;
    for (const [path, data] of Object.entries(content)) {
      const { url } = await tusUpload({ base: t.base, token: editor, cardId, relativePath: path, data });
      await t
        .http()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .auth(editor, { type: 'bearer' })
        .send(sourceHashes(data))
        .expect(200);
    }
    await waitFor(
      () => card(cardId),
      (c) => c.state === 'verified' && c.verdict.safe,
      60_000,
    );
    return cardId;
  }

  /** Starts a pass (of one project) and waits until it is done and no finding waits for its heal. */
  async function scrub(project?: string) {
    const pass = (await t.http().post('/api/scrub/runs').set(admin()).send({ project }).expect(200)).body;
    await waitFor(
      status,
      (s) => s.running === null && s.last?.id === pass.id && !s.findings.some((f: { outcome: string }) => f.outcome === 'open'),
      90_000,
    );
    return (await status()).last;
  }

  const at = (root: string, project: string, label: string, path: string) => join(root, YEAR, project, label, path);

  it('finds bytes flipped, files truncated, extended and deleted on both volumes, heals each from the other volume, keeps the damaged bytes', async () => {
    const content: Record<string, Buffer> = {
      'DCIM/A.CR3': randomBytes(3 * 1024 * 1024 + 5),
      'DCIM/B.CR3': randomBytes(1024 * 1024),
      'DCIM/C.MP4': randomBytes(2 * 1024 * 1024 + 4096),
      'DCIM/D.JPG': randomBytes(300_000),
      'DCIM/E.JPG': randomBytes(200_000),
      'DCIM/F.JPG': randomBytes(100_000),
      'DCIM/OK.JPG': randomBytes(50_000),
    };
    const cardId = await ingest('scrub-a', 'A001', content);
    const p = (root: string, f: string) => at(root, 'scrub-a', 'A001', f);
    const damaged: Record<string, Buffer> = {};
    flip(p(primary, 'DCIM/A.CR3'), 1_000_000);
    damaged['primary:DCIM/A.CR3'] = readFileSync(p(primary, 'DCIM/A.CR3'));
    flip(p(mirror, 'DCIM/B.CR3'), 17);
    damaged['mirror:DCIM/B.CR3'] = readFileSync(p(mirror, 'DCIM/B.CR3'));
    truncateSync(p(primary, 'DCIM/C.MP4'), 1024 * 1024);
    damaged['primary:DCIM/C.MP4'] = readFileSync(p(primary, 'DCIM/C.MP4'));
    appendFileSync(p(mirror, 'DCIM/D.JPG'), Buffer.from('extra'));
    damaged['mirror:DCIM/D.JPG'] = readFileSync(p(mirror, 'DCIM/D.JPG'));
    unlinkSync(p(mirror, 'DCIM/E.JPG'));
    unlinkSync(p(primary, 'DCIM/F.JPG'));

    const pass = await scrub();
    expect(pass).toMatchObject({ state: 'completed', trigger: 'manual', findings: 6 });
    expect(pass.filesDone).toBe(14);

    const list = await files(cardId);
    const byPath = new Map(list.map((f) => [f.relativePath, f]));
    const expected: [string, string, string][] = [
      ['DCIM/A.CR3', 'primary', 'mismatch'],
      ['DCIM/B.CR3', 'mirror', 'mismatch'],
      ['DCIM/C.MP4', 'primary', 'short'],
      ['DCIM/D.JPG', 'mirror', 'long'],
      ['DCIM/E.JPG', 'mirror', 'missing'],
      ['DCIM/F.JPG', 'primary', 'missing'],
    ];
    for (const [path, volume, kind] of expected) {
      const f = byPath.get(path)!;
      expect(f.findings).toEqual([
        expect.objectContaining({
          kind,
          volume,
          foundBy: 'scrub',
          outcome: 'healed',
          healedFrom: volume === 'primary' ? 'mirror' : 'primary',
        }),
      ]);
      expect(f.protection).toBe('verified');
      const copy = f.copies.find((c) => c.volume === volume)!;
      expect(copy).toMatchObject({ state: 'verified', scrubResult: 'healed' });
      // The damaged bytes are in quarantine on their volume, byte for byte (a deleted file has none).
      const q = f.findings[0].quarantinePath;
      if (kind === 'missing') expect(q).toBeNull();
      else {
        expect(q).toMatch(new RegExp(`^${Q}/\\d{4}-\\d{2}-\\d{2}/${YEAR}/scrub-a/A001/${path}$`));
        expect(readFileSync(join(volume === 'primary' ? primary : mirror, q!)).equals(damaged[`${volume}:${path}`])).toBe(true);
      }
    }
    expect(byPath.get('DCIM/OK.JPG')!.findings).toEqual([]);
    expect(byPath.get('DCIM/OK.JPG')!.copies.every((c) => c.scrubResult === 'ok' && c.lastScrubbedAt)).toBe(true);
    // Both copies byte-identical to the source again.
    for (const root of [primary, mirror])
      for (const [path, data] of Object.entries(content)) expect(readFileSync(p(root, path)).equals(data)).toBe(true);
    // The card is safe to format again (re-sealed after the heal).
    const c = await waitFor(
      () => card(cardId),
      (x) => x.state === 'verified',
    );
    expect(c.verdict.safe).toBe(true);
    // Audited: each finding and each heal.
    const ids = new Set(list.filter((f) => f.findings.length).map((f) => f.id));
    expect(new Set((await audit('integrity.finding')).map((e) => e.subjectId))).toEqual(ids);
    expect(new Set((await audit('integrity.heal')).map((e) => e.subjectId))).toEqual(ids);
    expect((await audit('scrub.complete')).length).toBeGreaterThanOrEqual(1);
    const s = await status();
    expect(s.openFindings).toBe(0);
    expect(s.coverage.scrubbedInCycle).toBe(s.coverage.copies);
  });

  it('the same byte flipped on both volumes with no off-site copy: the file is at risk, "no good copy", and the card not safe', async () => {
    const data = randomBytes(500_000);
    const cardId = await ingest('scrub-b', 'B001', { 'DCIM/X.CR3': data });
    for (const root of [primary, mirror]) flip(at(root, 'scrub-b', 'B001', 'DCIM/X.CR3'), 4242);
    const pass = (await t.http().post('/api/scrub/runs').set(admin()).send({ project: 'scrub-b' }).expect(200)).body;
    expect(pass.filesTotal).toBe(2); // only this project's copies
    const [f] = await waitFor(
      () => files(cardId),
      (l) =>
        l[0].findings.length === 2 &&
        l[0].findings.every((x) => x.outcome === 'no_good_copy') &&
        Boolean(l[0].protectionReason?.startsWith('no good copy')),
      60_000,
    );
    expect(f.protection).toBe('at_risk');
    expect(f.protectionReason).toMatch(/^no good copy: /);
    expect(f.copies.map((c) => c.state).sort()).toEqual(['mismatch', 'mismatch']);
    const c = await card(cardId);
    expect(c.state).toBe('at_risk');
    expect(c.verdict.safe).toBe(false);
    expect((await audit('integrity.no_good_copy')).some((e) => e.subjectId === f.id)).toBe(true);
    // Nothing was moved away: with no good copy, the damaged bytes stay where they are.
    expect(existsSync(at(primary, 'scrub-b', 'B001', 'DCIM/X.CR3'))).toBe(true);
  });

  it('the same byte flipped on both volumes with an off-site copy on a disk target: healed from it, its SHA-256 checked', async () => {
    const data = randomBytes(700_000);
    const cardId = await ingest('scrub-c', 'C001', { 'DCIM/Y.CR3': data });
    const disk = join(disks, 'usb');
    mkdirSync(disk);
    const target = (await t.http().post('/api/targets').set(admin()).send({ name: 'usb', kind: 'disk', path: disk }).expect(201)).body
      .target;
    targetId = target.id;
    const runs = (await t.http().post('/api/backup/runs').set(admin()).send({ targetId: target.id }).expect(200)).body;
    await waitFor(
      async () => (await t.http().get(`/api/backup/runs/${runs[0].id}`).set(admin())).body.state,
      (s) => s === 'completed',
      60_000,
    );
    for (const root of [primary, mirror]) flip(at(root, 'scrub-c', 'C001', 'DCIM/Y.CR3'), 99);
    await scrub('scrub-c');
    const [f] = await files(cardId);
    // The first heal takes the off-site copy; the second may take it too, or the copy just healed on the other volume.
    expect(f.findings.map((x) => [x.volume, x.outcome]).sort()).toEqual([
      ['mirror', 'healed'],
      ['primary', 'healed'],
    ]);
    const from = f.findings.map((x) => x.healedFrom);
    expect(from).toContain('offsite');
    expect(from.every((x) => x === 'offsite' || x === 'primary' || x === 'mirror')).toBe(true);
    expect((await audit('integrity.heal')).filter((e) => e.subjectId === f.id).map((e) => e.details.from)).toContain('offsite');
    for (const root of [primary, mirror]) expect(readFileSync(at(root, 'scrub-c', 'C001', 'DCIM/Y.CR3')).equals(data)).toBe(true);
    expect(f.protection).not.toBe('at_risk');
    await t.http().patch(`/api/targets/${target.id}`).set(admin()).send({ enabled: false }).expect(200);
  });

  it('a backup that meets a damaged primary reports it, sends the good mirror copy, and does not mark the target failing', async () => {
    const data = randomBytes(400_000);
    const cardId = await ingest('scrub-c', 'C002', { 'DCIM/Z.CR3': data }); // the target is disabled: no upload yet
    flip(at(primary, 'scrub-c', 'C002', 'DCIM/Z.CR3'), 1234);
    await t.http().patch(`/api/targets/${targetId}`).set(admin()).send({ enabled: true }).expect(200);
    const runs = (await t.http().post('/api/backup/runs').set(admin()).send({ targetId }).expect(200)).body;
    const run = await waitFor(
      async () => (await t.http().get(`/api/backup/runs/${runs[0].id}`).set(admin())).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      60_000,
    );
    expect(run).toMatchObject({ state: 'completed', errorCount: 0 });
    const [target] = (await t.http().get('/api/targets').set(admin()).expect(200)).body.filter((x: { id: string }) => x.id === targetId);
    expect(target.health).not.toBe('failing');
    const [f] = await waitFor(
      () => files(cardId),
      (l) => l[0].findings.length === 1 && l[0].findings[0].outcome === 'healed',
      60_000,
    );
    expect(f.findings[0]).toMatchObject({ volume: 'primary', kind: 'mismatch', foundBy: 'backup', healedFrom: 'mirror' });
    const [copy] = await db.query(`SELECT c.state, c.observed_sha256 FROM copies c WHERE c.asset_id = $1 AND c.target_id = $2`, [
      f.id,
      targetId,
    ]);
    expect(copy).toEqual({ state: 'uploaded', observed_sha256: sourceHashes(data).sha256 });
    expect(readFileSync(at(primary, 'scrub-c', 'C002', 'DCIM/Z.CR3')).equals(data)).toBe(true);
    await t.http().patch(`/api/targets/${targetId}`).set(admin()).send({ enabled: false }).expect(200);
  });

  it('keeps to the I/O cap: 20 MB read at 10 MB/s takes at least 1.5 s', async () => {
    await ingest('scrub-rate', 'R001', { 'DCIM/BIG.MP4': randomBytes(10_000_000) });
    await t.http().put('/api/settings/scrub').set(admin()).send({ rateMBps: 10 }).expect(200);
    try {
      const pass = await scrub('scrub-rate');
      expect(pass.bytesDone).toBe(20_000_000);
      const seconds = (Date.parse(pass.finishedAt) - Date.parse(pass.startedAt)) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(1.5);
    } finally {
      await t.http().put('/api/settings/scrub').set(admin()).send({ rateMBps: 0 }).expect(200);
    }
    expect((await audit('settings.scrub')).length).toBe(2);
  });

  it('yields to an ingest: a pass waits while a file is being received, then goes on', async () => {
    const res = await t
      .http()
      .post('/api/projects/scrub-rate/cards')
      .auth(editor, { type: 'bearer' })
      .send({ label: 'R002', files: 1, bytes: 4_000_000 })
      .expect(201);
    const { url } = await tusUpload({
      base: t.base,
      token: editor,
      cardId: res.body.id,
      relativePath: 'DCIM/P.JPG',
      data: randomBytes(4_000_000),
      chunkSize: 1_000_000,
      stopAfter: 1_000_000, // a file half received: the upload stays "receiving"
    });
    const pass = (await t.http().post('/api/scrub/runs').set(admin()).send({ project: 'scrub-rate' }).expect(200)).body;
    const paused = await waitFor(status, (s) => Boolean(s.running?.pausedReason?.startsWith('waiting for 1 upload(s) being received')));
    expect(paused.running.filesDone).toBe(0);
    await db.query(`UPDATE uploads SET state = 'aborted' WHERE id = $1`, [uploadId(url)]); // the ingest ends
    const done = await waitFor(status, (s) => s.running === null && s.last?.id === pass.id, 60_000);
    expect(done.last).toMatchObject({ state: 'completed', filesDone: 2, pausedReason: null });
  });

  it('takes damage reports from editors (the CLI): a real one is healed, one the server cannot confirm is closed; viewers may not report', async () => {
    const content = { 'DCIM/R1.JPG': randomBytes(120_000), 'DCIM/R2.JPG': randomBytes(80_000) };
    const cardId = await ingest('scrub-a', 'A002', content);
    const list = await files(cardId);
    const r1 = list.find((f) => f.relativePath === 'DCIM/R1.JPG')!;
    const r2 = list.find((f) => f.relativePath === 'DCIM/R2.JPG')!;
    flip(at(primary, 'scrub-a', 'A002', 'DCIM/R1.JPG'), 5);
    await t
      .http()
      .post(`/api/assets/${r1.id}/copies/report`)
      .auth(viewer, { type: 'bearer' })
      .send({ volume: 'primary', kind: 'mismatch' })
      .expect(403);
    const reported = (
      await t
        .http()
        .post(`/api/assets/${r1.id}/copies/report`)
        .auth(editor, { type: 'bearer' })
        .send({ volume: 'primary', kind: 'mismatch', detail: 'restore read sha256 …' })
        .expect(200)
    ).body;
    expect(reported).toMatchObject({ kind: 'mismatch', foundBy: 'cli', volume: 'primary' });
    await t
      .http()
      .post(`/api/assets/${r2.id}/copies/report`)
      .auth(editor, { type: 'bearer' })
      .send({ volume: 'mirror', kind: 'mismatch' })
      .expect(200);
    const after = await waitFor(
      () => files(cardId),
      (l) => l.every((f) => f.findings.length === 1 && f.findings[0].outcome !== 'open'),
      60_000,
    );
    expect(after.find((f) => f.id === r1.id)!.findings[0]).toMatchObject({ outcome: 'healed', healedFrom: 'mirror' });
    expect(after.find((f) => f.id === r2.id)!.findings[0]).toMatchObject({ outcome: 'not_confirmed' });
    expect(readFileSync(at(primary, 'scrub-a', 'A002', 'DCIM/R1.JPG')).equals(content['DCIM/R1.JPG'])).toBe(true);
    await t
      .http()
      .post('/api/assets/999999999/copies/report')
      .auth(editor, { type: 'bearer' })
      .send({ volume: 'mirror', kind: 'missing' })
      .expect(404);
  });

  it('deletes quarantine folders older than the quarantine days, with an audit entry, and keeps newer ones', async () => {
    const old = join(mirror, Q, '2020-01-01', 'x');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'f.bin'), 'x');
    const today = new Date().toISOString().slice(0, 10);
    const { removed } = await t.app.get(HealService).purgeQuarantine();
    expect(removed).toEqual(['mirror:2020-01-01']);
    expect(existsSync(join(mirror, Q, '2020-01-01'))).toBe(false);
    expect(existsSync(join(primary, Q, today))).toBe(true);
    const [e] = await audit('integrity.quarantine_purge');
    expect(e.details).toMatchObject({ volume: 'mirror', folder: `${Q}/2020-01-01`, files: 1 });
    rmSync(join(mirror, Q, today), { recursive: true, force: true });
  });

  it('validates the scrub settings and refuses a second pass while one runs', async () => {
    const bad = await t.http().put('/api/settings/scrub').set(admin()).send({ quietStart: '25:00' });
    expect(bad.status).toBe(400);
    await t.http().put('/api/settings/scrub').set(admin()).send({ quietStart: '01:00' }).expect(400); // both or neither
    await t.http().post('/api/scrub/runs').auth(editor, { type: 'bearer' }).send({}).expect(403);
    await t.http().post('/api/scrub/runs').set(admin()).send({ project: 'no-such-project' }).expect(404);
    const [running] = await db.query(`INSERT INTO scrub_passes (trigger) VALUES ('schedule') RETURNING id`);
    try {
      const second = await t.http().post('/api/scrub/runs').set(admin()).send({});
      expect([second.status, second.body.code]).toEqual([409, 'CONFLICT']);
    } finally {
      await db.query(`DELETE FROM scrub_passes WHERE id = $1`, [running.id]);
    }
  });
});
