import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { readCardHistory, verifyAgainstHistory } from '@studiovault/ascmhl';
import { scanCard } from '../../libs/ascmhl/src/testing/fake-card';
import { IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from './ingest-helpers';

const YEAR = '2026';
const PROJECT = 'names';
const MIRROR_SIZE = 64 * 1024 * 1024;

/** tus creation by hand (the tus metadata is base64: the exact bytes of a name arrive). */
function metadataHeader(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',');
}

/** The names in a folder as the file system holds them: bytes, not decoded strings. */
const namesOf = (dir: string): Buffer[] => readdirSync(dir, { encoding: 'buffer' });
const hasName = (dir: string, name: string): boolean => namesOf(dir).some((n) => n.equals(Buffer.from(name, 'utf8')));

/** Every file and folder under `dir`, with its mode. */
function walk(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) out.push(...walk(p));
  }
  return out;
}

describe('card ingest: file names byte for byte, name warnings, space at creation, file modes', () => {
  let t: IngestApp;
  let primary: string;
  let mirror: string;
  let restoreTo: string;

  const auth = () => ({ Authorization: `Bearer ${t.admin}` });
  const card = async (id: string) => (await t.http().get(`/api/cards/${id}`).set(auth()).expect(200)).body;
  const files = async (id: string) => (await t.http().get(`/api/cards/${id}/files`).set(auth()).expect(200)).body.items;
  async function announce(label: string) {
    return (await t.http().post(`/api/projects/${PROJECT}/cards`).set(auth()).send({ label }).expect(201)).body.id as string;
  }
  async function send(cardId: string, relativePath: string, data: Buffer) {
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath, data });
    return t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .set(auth())
      .send(sourceHashes(data))
      .expect(200);
  }
  const create = (meta: Record<string, string>, length: number) =>
    t
      .http()
      .post('/files')
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Length', String(length))
      .set('Upload-Metadata', metadataHeader(meta))
      .set(auth());

  beforeAll(async () => {
    primary = await mkdtemp(join(tmpdir(), 'sv-names-primary-')); // ext4
    // The mirror: a small tmpfs of its own, so a declared length can outgrow it.
    mirror = await mkdtemp(join(tmpdir(), 'sv-names-mirror-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MIRROR_SIZE}`, 'tmpfs', mirror]);
    restoreTo = await mkdtemp(join(tmpdir(), 'sv-names-restore-'));
    t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror, STUDIOVAULT_RESTORE_ROOTS: restoreTo });
    await t
      .http()
      .post('/api/projects')
      .set(auth())
      .send({ name: 'Names', slug: PROJECT, shootDate: `${YEAR}-09-12`, type: 'wedding' })
      .expect(201);
  });
  afterAll(async () => {
    await t?.close();
    execFileSync('umount', [mirror]);
    for (const d of [primary, mirror, restoreTo]) await rm(d, { recursive: true, force: true });
  });

  const NFD_FILE = 'DCIM/100CANON/Cafe\u0301.JPG'; // e + combining acute, as macOS writes it
  const NFD_FOLDER_FILE = 'PRIVATE/Re\u0301sume\u0301/Clip.MP4';
  const nfdCard: Record<string, Buffer> = {
    [NFD_FILE]: randomBytes(1000),
    [NFD_FOLDER_FILE]: randomBytes(20_000),
    'DCIM/100CANON/IMG_0001.JPG': randomBytes(5000),
  };
  let nfdCardId: string;

  it('stores an NFD name on both volumes as exactly those bytes, and the ASC MHL records the same bytes', async () => {
    nfdCardId = await announce('N001');
    for (const [p, d] of Object.entries(nfdCard)) expect((await send(nfdCardId, p, d)).body.outcome).toBe('stored');
    await waitFor(
      () => card(nfdCardId),
      (c) => c.state === 'verified',
    );
    for (const root of [primary, mirror]) {
      const cardDir = join(root, YEAR, PROJECT, 'N001');
      expect(hasName(join(cardDir, 'DCIM/100CANON'), 'Cafe\u0301.JPG')).toBe(true);
      expect(hasName(join(cardDir, 'DCIM/100CANON'), 'Caf\u00e9.JPG')).toBe(false);
      expect(hasName(join(cardDir, 'PRIVATE'), 'Re\u0301sume\u0301')).toBe(true);
      expect(hasName(join(cardDir, 'PRIVATE'), 'R\u00e9sum\u00e9')).toBe(false);
      for (const [p, d] of Object.entries(nfdCard)) expect(readFileSync(join(cardDir, p)).equals(d)).toBe(true);

      // The generation records the names byte for byte as they are on disk.
      const [generation] = readdirSync(join(cardDir, 'ascmhl')).filter((n) => n.endsWith('.mhl'));
      const xml = readFileSync(join(cardDir, 'ascmhl', generation));
      expect(xml.includes(Buffer.from(`>${NFD_FILE}</path>`))).toBe(true);
      expect(xml.includes(Buffer.from(`>${NFD_FOLDER_FILE}</path>`))).toBe(true);
      expect(xml.includes(Buffer.from(NFD_FILE.normalize('NFC')))).toBe(false);

      // The repository's own verifier: the history against the files on disk, nothing missing or unknown.
      const history = await readCardHistory(cardDir);
      const scan = await scanCard(cardDir);
      const check = verifyAgainstHistory(history, scan.files);
      expect(check.counts).toMatchObject({ matched: 3, missing: 0, new: 0, mismatched: 0 });
      expect(check.ok).toBe(true);
      // ...and each recorded path is the very name on disk (the verifier compares in NFC, a byte-exact one would not).
      const onDisk = new Set(scan.files.map((f) => Buffer.from(f.path).toString('hex')));
      for (const fh of history.files.values()) expect(onDisk.has(Buffer.from(fh.path).toString('hex'))).toBe(true);
    }
  });

  it('restores the NFD names byte for byte', async () => {
    const dest = join(restoreTo, 'server');
    const started = await t.http().post('/api/restores').set(auth()).send({ project: PROJECT, card: 'N001', destination: dest });
    expect(started.status).toBe(200);
    const done = await waitFor(
      async () => (await t.http().get(`/api/restores/${started.body.id}`).set(auth()).expect(200)).body,
      (r) => r.state === 'completed' || r.state === 'failed',
      60_000,
    );
    expect([done.state, done.restored, done.errors]).toEqual(['completed', 3, []]);
    expect(hasName(join(dest, 'N001/DCIM/100CANON'), 'Cafe\u0301.JPG')).toBe(true);
    expect(hasName(join(dest, 'N001/DCIM/100CANON'), 'Caf\u00e9.JPG')).toBe(false);
    expect(hasName(join(dest, 'N001/PRIVATE'), 'Re\u0301sume\u0301')).toBe(true);
    for (const [p, d] of Object.entries(nfdCard)) expect(readFileSync(join(dest, 'N001', p)).equals(d)).toBe(true);
  });

  it('leaves no world bits on the files and folders it wrote on both volumes', () => {
    for (const root of [primary, mirror]) {
      const all = walk(root);
      expect(all.filter((e) => !e.dir).length).toBeGreaterThan(4); // the card's files and its ASC MHL
      const open = all.filter((e) => e.mode & 0o007).map((e) => `${e.path} ${e.mode.toString(8)}`);
      expect(open).toEqual([]);
      for (const e of all) if (e.path.includes(`${YEAR}/`) && !e.path.includes('.studiovault')) expect(e.mode).toBe(e.dir ? 0o750 : 0o640);
    }
  });

  it('refuses the NFC twin of an NFD name on the same card', async () => {
    const res = await create({ cardId: nfdCardId, relativePath: NFD_FILE.normalize('NFC') }, 10);
    expect(res.status).toBe(409);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'PATH_COLLISION' });
  });

  it('stores case-only twins and flags both on the files and the card', async () => {
    const id = await announce('C001');
    const first = await send(id, 'DCIM/IMG_0001.jpg', randomBytes(100));
    expect(first.body).toMatchObject({ outcome: 'stored', warnings: [] });
    const second = await send(id, 'DCIM/img_0001.JPG', randomBytes(100));
    expect(second.body.outcome).toBe('stored');
    expect(second.body.warnings).toEqual([{ code: 'CASE_TWIN', message: expect.stringContaining('"DCIM/IMG_0001.jpg"') }]);
    const c = await card(id);
    expect(c.warnings.map((w: { relativePath: string; code: string }) => [w.relativePath, w.code])).toEqual([
      ['DCIM/IMG_0001.jpg', 'CASE_TWIN'],
      ['DCIM/img_0001.JPG', 'CASE_TWIN'],
    ]);
    const list = await files(id);
    expect(list.every((f: { warnings: { code: string }[] }) => f.warnings.length === 1 && f.warnings[0].code === 'CASE_TWIN')).toBe(true);
    for (const root of [primary, mirror]) {
      const dir = join(root, YEAR, PROJECT, 'C001', 'DCIM');
      expect(readdirSync(dir).sort()).toEqual(['IMG_0001.jpg', 'img_0001.JPG']);
    }
  });

  it('accepts a name with bidirectional controls byte for byte, and flags the file and the card', async () => {
    const id = await announce('B001');
    const name = 'DCIM/IMG_\u202Egpj.EXE'; // shows as "IMG_EXE.jpg"
    const res = await send(id, name, randomBytes(100));
    expect(res.body.outcome).toBe('stored');
    expect(res.body.warnings).toEqual([{ code: 'BIDI_CONTROL', message: expect.stringContaining('U+202E') }]);
    expect((await card(id)).warnings).toEqual([{ relativePath: name, code: 'BIDI_CONTROL', message: expect.any(String) }]);
    for (const root of [primary, mirror]) expect(hasName(join(root, YEAR, PROJECT, 'B001', 'DCIM'), 'IMG_\u202Egpj.EXE')).toBe(true);
  });

  it('gives a version the next free ~vN name when the card itself has a file named like a version', async () => {
    const id = await announce('V001');
    const [literal, one, two] = [randomBytes(300), randomBytes(300), randomBytes(300)];
    expect((await send(id, 'DCIM/IMG.JPG', one)).body).toMatchObject({
      outcome: 'stored',
      storedPath: `${YEAR}/${PROJECT}/V001/DCIM/IMG.JPG`,
    });
    expect((await send(id, 'DCIM/IMG~v2.JPG', literal)).body).toMatchObject({
      outcome: 'stored',
      storedPath: `${YEAR}/${PROJECT}/V001/DCIM/IMG~v2.JPG`,
    });
    // Was: the seal tried IMG~v2.JPG, found other content there and refused the file (CONFLICT).
    expect((await send(id, 'DCIM/IMG.JPG', two)).body).toMatchObject({
      outcome: 'version',
      storedPath: `${YEAR}/${PROJECT}/V001/DCIM/IMG~v3.JPG`,
    });
    // The other way round: a version first, then a file with that very name.
    const [a1, a2, lit2] = [randomBytes(200), randomBytes(200), randomBytes(200)];
    await send(id, 'DCIM/MVI.MP4', a1);
    expect((await send(id, 'DCIM/MVI.MP4', a2)).body.storedPath).toBe(`${YEAR}/${PROJECT}/V001/DCIM/MVI~v2.MP4`);
    const renamed = await send(id, 'DCIM/MVI~v2.MP4', lit2);
    expect(renamed.body).toMatchObject({ outcome: 'stored', storedPath: `${YEAR}/${PROJECT}/V001/DCIM/MVI~v2~v2.MP4` });
    expect(renamed.body.warnings).toEqual([{ code: 'STORED_RENAMED', message: expect.stringContaining('MVI~v2~v2.MP4') }]);
    for (const root of [primary, mirror]) {
      const dir = join(root, YEAR, PROJECT, 'V001', 'DCIM');
      expect(readFileSync(join(dir, 'IMG.JPG')).equals(one)).toBe(true);
      expect(readFileSync(join(dir, 'IMG~v2.JPG')).equals(literal)).toBe(true);
      expect(readFileSync(join(dir, 'IMG~v3.JPG')).equals(two)).toBe(true);
      expect(readFileSync(join(dir, 'MVI~v2.MP4')).equals(a2)).toBe(true);
      expect(readFileSync(join(dir, 'MVI~v2~v2.MP4')).equals(lit2)).toBe(true);
    }
  });

  describe('an upload longer than a volume has free', () => {
    const staging = (root: string) =>
      existsSync(join(root, '.studiovault/staging')) ? readdirSync(join(root, '.studiovault/staging')) : [];
    const uploads = async () => Number((await t.app.get(DataSource).query(`SELECT count(*) AS n FROM uploads`))[0].n);

    it('is refused at creation naming the volume, free and needed bytes, with nothing created', async () => {
      const id = await announce('S001');
      const before = [await uploads(), staging(primary), staging(mirror)];
      const res = await create({ cardId: id, relativePath: 'CLIP/HUGE.MP4' }, 2 ** 50);
      expect(res.status).toBe(507);
      const body = JSON.parse(res.text);
      expect(body.code).toBe('INSUFFICIENT_STORAGE');
      expect(body.message).toContain('primary volume');
      expect(body.details).toEqual(expect.arrayContaining(['volume=primary', `fileBytes=${2 ** 50}`]));
      expect(body.details.find((d: string) => d.startsWith('freeBytes='))).toMatch(/^freeBytes=\d+$/);
      expect([await uploads(), staging(primary), staging(mirror)]).toEqual(before);

      // The mirror (64 MiB): a 40 MiB upload fits; a second one does not while the first still has its bytes to send.
      const first = await create({ cardId: id, relativePath: 'CLIP/A.MP4' }, 40 * 1024 * 1024);
      expect(first.status).toBe(201);
      const second = await create({ cardId: id, relativePath: 'CLIP/B.MP4' }, 40 * 1024 * 1024);
      expect(second.status).toBe(507);
      const refused = JSON.parse(second.text);
      expect(refused.message).toContain('mirror volume');
      expect(refused.details).toEqual(expect.arrayContaining(['volume=mirror', `pendingBytes=${40 * 1024 * 1024}`]));
      // Ended, the first no longer counts.
      await t.http().delete(new URL(first.headers.location, t.base).pathname).set('Tus-Resumable', '1.0.0').set(auth()).expect(204);
      expect((await create({ cardId: id, relativePath: 'CLIP/B.MP4' }, 40 * 1024 * 1024)).status).toBe(201);
    });
  });
});
