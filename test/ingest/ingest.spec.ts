import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestService } from '@studiovault/ingest';
import {
  FOREIGN_CHAIN,
  FOREIGN_GENERATION,
  FOREIGN_GENERATION_NAME,
  FOREIGN_MEDIA,
} from '../../libs/ascmhl/src/testing/foreign-history.fixture';
import { assertValidAgainstXsd, CHAIN_XSD, GENERATION_XSD } from '../../libs/ascmhl/src/testing/xmllint';
import { exifJpeg } from '../fixtures/exif-jpeg';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from './ingest-helpers';

const YEAR = '2026';

describe('card ingest: tus upload, two copies in one pass, verification, verdict', () => {
  let t: IngestApp;
  let primary: string;
  let mirror: string;
  let editor: string;
  let viewer: string;

  beforeAll(async () => {
    primary = await mkdtemp(join(tmpdir(), 'sv-primary-')); // ext4
    mirror = await mkdtemp('/dev/shm/sv-mirror-'); // tmpfs: another device
    t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
    for (const role of ['editor', 'viewer']) {
      await t
        .http()
        .post('/api/users')
        .auth(t.admin, { type: 'bearer' })
        .send({ email: `${role}@studio.test`, name: role, role, password: `${role}-password-1` })
        .expect(201);
    }
    editor = (await t.http().post('/api/auth/token').send({ email: 'editor@studio.test', password: 'editor-password-1', tokenName: 'e' }))
      .body.token;
    viewer = (await t.http().post('/api/auth/token').send({ email: 'viewer@studio.test', password: 'viewer-password-1', tokenName: 'v' }))
      .body.token;
    await t
      .http()
      .post('/api/projects')
      .auth(editor, { type: 'bearer' })
      .send({ name: 'Anna & Ben', slug: 'anna-ben', shootDate: `${YEAR}-09-12`, type: 'wedding' })
      .expect(201);
  });
  afterAll(async () => {
    await t.close();
    await rm(primary, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  });

  async function announce(label: string, files: number, bytes: number) {
    const res = await t.http().post('/api/projects/anna-ben/cards').auth(editor, { type: 'bearer' }).send({ label, files, bytes });
    if (res.status >= 300) throw new Error(JSON.stringify(res.body));
    return res.body as { id: string };
  }
  async function send(cardId: string, relativePath: string, data: Buffer) {
    const { url } = await tusUpload({ base: t.base, token: editor, cardId, relativePath, data });
    return t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(editor, { type: 'bearer' })
      .send(sourceHashes(data));
  }
  const card = async (id: string) => (await t.http().get(`/api/cards/${id}`).auth(viewer, { type: 'bearer' }).expect(200)).body;
  const files = async (id: string) =>
    (await t.http().get(`/api/cards/${id}/files`).auth(viewer, { type: 'bearer' }).expect(200)).body.items;

  const cardFiles = {
    'DCIM/100CANON/IMG_0001.CR3': randomBytes(3 * 1024 * 1024 + 17),
    'DCIM/100CANON/IMG_0002.JPG': randomBytes(200_000),
    'DCIM/100CANON/Cafe\u0301.JPG': randomBytes(1000), // NFD, as macOS sends it
    'PRIVATE/M4ROOT/CLIP/C0001.MP4': randomBytes(5_000_000),
    'DCIM/EMPTY.TXT': Buffer.alloc(0),
  };
  let cardA: string;

  it('lands every file as two verified copies on two devices, and says why it is not yet safe', async () => {
    const total = Object.values(cardFiles).reduce((a, b) => a + b.length, 0);
    cardA = (await announce('A001', Object.keys(cardFiles).length, total)).id;
    for (const [path, data] of Object.entries(cardFiles)) {
      const res = await send(cardA, path, data);
      expect([res.status, res.body.outcome]).toEqual([200, 'stored']);
    }
    const done = await waitFor(
      () => card(cardA),
      (c) => c.state === 'verified',
    );
    expect(done.levels.verified).toBe(5);
    expect(done.verdict).toEqual({ safe: false, reason: 'no off-site target' });
    for (const root of [primary, mirror]) {
      for (const [path, data] of Object.entries(cardFiles)) {
        expect(readFileSync(join(root, YEAR, 'anna-ben', 'A001', path)).equals(data)).toBe(true);
      }
      expect(readdirSync(join(root, '.studiovault', 'staging'))).toEqual([]);
    }
    const list = await files(cardA);
    expect(list.map((f: { relativePath: string }) => f.relativePath)).toContain('DCIM/100CANON/Cafe\u0301.JPG'); // stored as given
    for (const f of list) {
      expect(f.copies).toHaveLength(2);
      expect(f.copies.every((c: { state: string }) => c.state === 'verified')).toBe(true);
      const p = f.copies.find((c: { volume: string }) => c.volume === 'primary');
      expect(p.verifyMethod).toBe('o_direct'); // ext4, read from the device
      expect(f.xxh64).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('seals the verified card with an ASC MHL generation on both volumes, valid against the ASC XSDs', async () => {
    for (const root of [primary, mirror]) {
      const dir = join(root, YEAR, 'anna-ben', 'A001', 'ascmhl');
      await waitFor(
        async () => (existsSync(dir) ? readdirSync(dir) : []),
        (names) => names.length === 2,
      );
      const [generation] = readdirSync(dir).filter((n) => n.endsWith('.mhl'));
      expect(generation).toMatch(/^0001_A001_\d{4}-\d{2}-\d{2}_\d{6}Z\.mhl$/);
      assertValidAgainstXsd(GENERATION_XSD, join(dir, generation));
      assertValidAgainstXsd(CHAIN_XSD, join(dir, 'ascmhl_chain.xml'));
      const xml = readFileSync(join(dir, generation), 'utf8');
      expect(xml).toContain('<path size="3145745"');
      expect(xml).toContain(`<xxh64 action="original"`);
      expect(xml).toContain('StudioVault');
    }
  });

  it('reads camera make, model, serial and capture time from EXIF', async () => {
    const c = (await announce('EXIF1', 1, 0)).id;
    const jpg = exifJpeg({ make: 'Canon', model: 'Canon EOS R5', serial: '012345678901', dateTimeOriginal: '2026:09:12 15:04:05' });
    expect((await send(c, 'DCIM/100CANON/IMG_0100.JPG', jpg)).status).toBe(200);
    const done = await waitFor(
      () => card(c),
      (x) => x.state === 'verified' && x.cameraModel !== null,
    );
    expect([done.cameraMake, done.cameraModel, done.cameraSerial]).toEqual(['Canon', 'Canon EOS R5', '012345678901']);
    const [f] = await files(c);
    expect(f.captureTime).toBe('2026-09-12T15:04:05.000Z');
  });

  it('verifies a card against the ASC MHL history it arrived with, and continues that history', async () => {
    const label = 'A001R1AB'; // the folder name the other tool used
    const c = (await announce(label, 3, 0)).id;
    for (const [name, body] of [
      [FOREIGN_GENERATION_NAME, FOREIGN_GENERATION],
      ['ascmhl_chain.xml', FOREIGN_CHAIN],
    ]) {
      const data = Buffer.from(body);
      const { url } = await tusUpload({
        base: t.base,
        token: editor,
        cardId: c,
        relativePath: `ascmhl/${name}`,
        data,
        metadata: { kind: 'history' },
      });
      const res = await t
        .http()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .auth(editor, { type: 'bearer' })
        .send(sourceHashes(data))
        .expect(200);
      expect(res.body.outcome).toBe('history');
    }
    // One file on the card no longer matches what the other tool recorded.
    const media = { ...FOREIGN_MEDIA, 'A001.xml': '<card changed="yes"/>\n' };
    for (const [path, body] of Object.entries(media)) expect((await send(c, path, Buffer.from(body))).status).toBe(200);
    const after = await waitFor(
      () => card(c),
      (x) => x.state === 'at_risk',
      30_000,
    );
    expect(after.levels.verified).toBe(2);
    expect(after.levels.at_risk).toBe(1);
    const bad = (await files(c)).find((f: { relativePath: string }) => f.relativePath === 'A001.xml');
    expect(bad.protectionReason).toMatch(/differs from the card's ASC MHL history \(generation 1\)/);
    for (const root of [primary, mirror]) {
      const dir = join(root, YEAR, 'anna-ben', label, 'ascmhl');
      const names = readdirSync(dir).sort();
      expect(names).toEqual([FOREIGN_GENERATION_NAME, expect.stringMatching(/^0002_A001R1AB_.*Z\.mhl$/), 'ascmhl_chain.xml']);
      expect(readFileSync(join(dir, FOREIGN_GENERATION_NAME), 'utf8')).toBe(FOREIGN_GENERATION); // the other tool's generation is kept as it was
      assertValidAgainstXsd(GENERATION_XSD, join(dir, names[1]));
      assertValidAgainstXsd(CHAIN_XSD, join(dir, 'ascmhl_chain.xml'));
      const gen2 = readFileSync(join(dir, names[1]), 'utf8');
      expect(gen2).toMatch(/<path[^>]*>Clips\/A001C001_230101_R1AB.mov<\/path>\s*<xxh64 action="verified"/);
      expect(gen2).toMatch(/<path[^>]*>A001.xml<\/path>\s*<xxh64 action="failed"/);
    }
  });

  it('becomes safe under the "two local copies" rule', async () => {
    await t.app.get(IngestService).setSafeToFormatRule('two_local' as never);
    const c = await card(cardA);
    expect(c.verdict.safe).toBe(true);
    expect(c.verdict.reason).toMatch(/5 file\(s\) verified on two devices/);
  });

  it('re-ingesting the same card skips what is there', async () => {
    const again = await announce('A001', 5, 0);
    expect(again.id).toBe(cardA);
    const res = await send(cardA, 'DCIM/100CANON/IMG_0002.JPG', cardFiles['DCIM/100CANON/IMG_0002.JPG']);
    expect(res.body.outcome).toBe('duplicate');
    expect((await card(cardA)).fileCount).toBe(5);
  });

  it('records a dual-slot twin card without storing its bytes twice', async () => {
    const twin = (await announce('B001', 2, 0)).id;
    for (const p of ['DCIM/100CANON/IMG_0001.CR3', 'DCIM/100CANON/IMG_0002.JPG'] as const) {
      const res = await send(twin, p, cardFiles[p]);
      expect(res.body.outcome).toBe('twin');
      expect(res.body.storedPath).toBe(`${YEAR}/anna-ben/A001/${p}`);
    }
    expect(existsSync(join(primary, YEAR, 'anna-ben', 'B001'))).toBe(false);
    const c = await waitFor(
      () => card(twin),
      (x) => x.state === 'verified',
    );
    expect(c.levels.verified).toBe(2);
    expect(c.verdict.safe).toBe(true);
  });

  it('keeps a file whose name exists with other content beside it, never overwriting', async () => {
    const other = randomBytes(4000);
    const res = await send(cardA, 'DCIM/100CANON/IMG_0002.JPG', other);
    expect(res.body.outcome).toBe('version');
    expect(res.body.storedPath).toBe(`${YEAR}/anna-ben/A001/DCIM/100CANON/IMG_0002~v2.JPG`);
    expect(
      readFileSync(join(primary, YEAR, 'anna-ben', 'A001', 'DCIM/100CANON/IMG_0002.JPG')).equals(cardFiles['DCIM/100CANON/IMG_0002.JPG']),
    ).toBe(true);
    expect(readFileSync(join(mirror, res.body.storedPath)).equals(other)).toBe(true);
    const list = await files(cardA);
    expect(list.filter((f: { relativePath: string }) => f.relativePath === 'DCIM/100CANON/IMG_0002.JPG')).toHaveLength(2);
  });

  it('marks a file at risk, with both hashes, when a copy is damaged before verification', async () => {
    const c = (await announce('C001', 1, 0)).id;
    const data = randomBytes(300_000);
    const { url } = await tusUpload({ base: t.base, token: editor, cardId: c, relativePath: 'DCIM/IMG_9999.CR3', data });
    // The disk damages the mirror's bytes after they were written and hashed, before the read-back.
    const staged = join(mirror, '.studiovault', 'staging', `${uploadId(url)}.part`);
    const bytes = readFileSync(staged);
    bytes[1234] ^= 0xff;
    writeFileSync(staged, bytes);
    await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(editor, { type: 'bearer' })
      .send(sourceHashes(data))
      .expect(200);
    await waitFor(
      () => card(c),
      (x) => x.state === 'at_risk' || x.state === 'verified',
    );
    const after = await card(c);
    expect(after.state).toBe('at_risk');
    expect(after.verdict.safe).toBe(false);
    expect(after.verdict.reason).toMatch(/at risk/);
    const [f] = await files(c);
    expect(f.protection).toBe('at_risk');
    const m = f.copies.find((x: { volume: string }) => x.volume === 'mirror');
    expect(m.state).toBe('mismatch');
    expect(m.error).toContain(sourceHashes(data).xxh64);
    expect(m.observedXxh64).not.toBe(sourceHashes(data).xxh64);
    const only = (await t.http().get(`/api/cards/${c}/files?notVerified=true`).auth(viewer, { type: 'bearer' }).expect(200)).body.items;
    expect(only.map((x: { relativePath: string }) => x.relativePath)).toEqual(['DCIM/IMG_9999.CR3']);
    const notVerifiedA = (await t.http().get(`/api/cards/${cardA}/files?notVerified=true`).auth(viewer, { type: 'bearer' }).expect(200))
      .body.items;
    expect(notVerifiedA).toEqual([]);
  });

  it('seals on arrival when the client sent its hashes with the upload, and a later seal answers the same', async () => {
    const c = (await announce('META1', 1, 0)).id;
    const data = randomBytes(20_000);
    const { url } = await tusUpload({
      base: t.base,
      token: editor,
      cardId: c,
      relativePath: 'DCIM/META.JPG',
      data,
      metadata: sourceHashes(data),
    });
    const again = await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(editor, { type: 'bearer' })
      .send(sourceHashes(data))
      .expect(200);
    expect(again.body.outcome).toBe('stored');
    await waitFor(
      () => card(c),
      (x) => x.state === 'verified',
    );
  });
});
