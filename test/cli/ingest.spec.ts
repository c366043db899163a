/**
 * `studiovault ingest` and `studiovault status`: the bundled CLI as a child process against
 * the real API with its in-process worker, two volume roots on two devices (ext4 under the
 * temp dir, tmpfs under /dev/shm), a real Postgres database.
 *
 *   cd /work/main && npx jest test/cli/ingest.spec.ts
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Xxh64 } from '@node-rs/xxhash';
import { scanCard } from '../../libs/ascmhl/src/testing/fake-card';
import { sealCardFolder } from '@studiovault/ascmhl';
import { ADMIN, type IngestApp, startIngestApp } from '../ingest/ingest-helpers';
import { buildCli, json, lastLine, type ProxyControl, type Run, sha256File, startCli, startDamagingProxy } from './cli-helpers';

const YEAR = '2026';
const PROJECT = 'anna-ben';

interface IngestJson {
  card: { id: string; label: string; created: boolean; levels: Record<string, number> };
  counts: Record<string, number>;
  files: {
    relativePath: string;
    size: number;
    kind: string;
    status: string;
    reason?: string;
    resumedFrom?: number;
    prefixHashed?: number;
    networkResumes?: number[];
    xxh64?: string;
    sha256?: string;
    error?: { code: string };
  }[];
  resumedFrom: Record<string, number>;
  ignored: { relativePath: string; reason: string }[];
  verified: { files: number; of: number };
  verdict: { safe: boolean; reason: string };
  notVerified: unknown[];
  transfer: { bytes: number; seconds: number; bytesPerSecond: number | null };
  error?: { code: string; message: string };
}

let t: IngestApp;
let cliPath: string;
let work: string;
let primary: string;
let mirror: string;
let configFile: string;
let stateDir: string;
/** The database of the first API instance (a restarted instance does not drop a database it did not create). */
let database: { drop(): Promise<void> } | undefined;

const env = (extra: Record<string, string | undefined> = {}) => ({
  HOME: work,
  STUDIOVAULT_CONFIG: configFile,
  STUDIOVAULT_STATE_DIR: stateDir,
  ...extra,
});
const cli = (args: string[], extra: Record<string, string | undefined> = {}, input = ''): Promise<Run> =>
  startCli(cliPath, args, env(extra), input).done;
const ingest = (card: string, ...args: string[]) => cli(['ingest', card, '--project', PROJECT, ...args]);

const xxh64 = (data: Buffer) => new Xxh64().update(data).digest().toString(16).padStart(16, '0');

/** Writes a card folder; returns its path. */
async function makeCard(name: string, files: Record<string, Buffer | string>): Promise<string> {
  const root = join(work, 'cards', name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const onVolumes = (label: string, rel: string) => [primary, mirror].map((v) => join(v, YEAR, PROJECT, label, rel));

const A001 = {
  'DCIM/100CANON/IMG_0001.CR3': randomBytes(3 * 1024 * 1024 + 17),
  'DCIM/100CANON/IMG_0002.JPG': randomBytes(200_000),
  'DCIM/100CANON/Cafe\u0301.JPG': randomBytes(1000), // NFD, as macOS gives it
  'DCIM/EMPTY.TXT': Buffer.alloc(0),
  'PRIVATE/M4ROOT/CLIP/C0001.MP4': randomBytes(2_000_000),
};
const A001_JUNK = {
  '.DS_Store': 'finder junk',
  'DCIM/100CANON/._IMG_0001.CR3': 'AppleDouble',
  '.Spotlight-V100/Store-V2/index': 'spotlight',
  '.Trashes/501/old.JPG': 'trash',
};
const A001_BYTES = Object.values(A001).reduce((a, b) => a + b.length, 0);
let cardA: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-cli-ingest-'));
  cliPath = buildCli(join(work, 'bin'));
  primary = await mkdtemp(join(tmpdir(), 'sv-cli-primary-')); // ext4
  mirror = await mkdtemp('/dev/shm/sv-cli-mirror-'); // tmpfs: another device
  configFile = join(work, 'conf', 'config.json');
  stateDir = join(work, 'state');
  t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
  database = t.db;
  await t
    .http()
    .post('/api/projects')
    .auth(t.admin, { type: 'bearer' })
    .send({ name: 'Anna & Ben', slug: PROJECT, shootDate: `${YEAR}-09-12`, type: 'wedding' })
    .expect(201);
  const login = await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], {}, `${ADMIN.password}\n`);
  expect(login.code).toBe(0);
  cardA = await makeCard('A001', { ...A001, ...A001_JUNK });
  await symlink('/etc/hostname', join(cardA, 'LINK_OUT'));
}, 120_000);

afterAll(async () => {
  await t?.close();
  await database?.drop();
  for (const dir of [work, primary, mirror]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('studiovault ingest', () => {
  it('ingests a card: every file verified on two devices; with the default rule it says why it is not safe, and exits 0', async () => {
    const run = await ingest(cardA);
    expect({ code: run.code, last: lastLine(run.stdout) }).toEqual({ code: 0, last: 'NOT SAFE: no off-site target' });
    expect(run.stdout).toContain('Verified on two devices: 5 of 5 file(s)');
    expect(run.stdout).toMatch(/Uploaded 5 .* skipped 0, duplicates 0, twins 0, versions 0, failed 0/);
    // junk and the symlink out of the card are reported, not uploaded
    expect(run.stdout).toContain(
      'Not uploaded: .DS_Store (OS junk), .Spotlight-V100/ (OS junk folder), .Trashes/ (OS junk folder), ' +
        'DCIM/100CANON/._IMG_0001.CR3 (OS junk: AppleDouble), LINK_OUT (refused: symlink leads out of the card, to /etc/hostname)\n',
    );
    expect(run.stderr).not.toMatch(/error|failed/i);

    for (const [rel, data] of Object.entries(A001)) {
      for (const copy of onVolumes('A001', rel)) expect((await readFile(copy)).equals(data)).toBe(true);
    }
    for (const junk of ['.DS_Store', 'DCIM/100CANON/._IMG_0001.CR3', 'LINK_OUT', '.Spotlight-V100']) {
      for (const copy of onVolumes('A001', junk)) expect(existsSync(copy)).toBe(false);
    }
    for (const v of [primary, mirror]) expect(await readdir(join(v, '.studiovault', 'staging'))).toEqual([]);
    // the catalog has the names as the card gave them (NFD), and the card's hashes
    const card = (await t.http().get(`/api/projects/${PROJECT}/cards`).auth(t.admin, { type: 'bearer' }).expect(200)).body[0];
    const files = (await t.http().get(`/api/cards/${card.id}/files`).auth(t.admin, { type: 'bearer' }).expect(200)).body.items;
    expect(files.map((f: { relativePath: string }) => f.relativePath).sort()).toEqual(Object.keys(A001).sort());
    for (const f of files) expect(f.xxh64).toBe(xxh64(A001[f.relativePath as keyof typeof A001]));
    expect(card.announcedFiles).toBe(5);
    expect(card.announcedBytes).toBe(A001_BYTES);
  });

  it('says SAFE TO FORMAT under the "two local copies" rule; --json has the counts', async () => {
    await t.http().put('/api/settings/safe-to-format').auth(t.admin, { type: 'bearer' }).send({ rule: 'two_local' }).expect(200);
    const files = {
      'DCIM/100CANON/IMG_0101.CR3': randomBytes(1_500_000),
      'DCIM/100CANON/IMG_0102.JPG': randomBytes(300_000),
      '.DS_Store': 'junk',
    };
    const card = await makeCard('B001', files);
    const run = await ingest(card, '--json');
    expect(run.code).toBe(0);
    const doc = json<IngestJson>(run);
    expect(doc.counts).toEqual({
      files: 2,
      bytes: 1_800_000,
      uploaded: 2,
      skipped: 0,
      duplicates: 0,
      twins: 0,
      versions: 0,
      failed: 0,
      history: 0,
      ignored: 1,
    });
    expect(doc.card).toMatchObject({ label: 'B001', created: true });
    expect(doc.verdict).toEqual({ safe: true, reason: '2 file(s) verified on two devices' });
    expect(doc.verified).toEqual({ files: 2, of: 2 });
    expect(doc.files.map((f) => [f.relativePath, f.status])).toEqual([
      ['DCIM/100CANON/IMG_0101.CR3', 'stored'],
      ['DCIM/100CANON/IMG_0102.JPG', 'stored'],
    ]);
    expect(doc.files[0].xxh64).toBe(xxh64(files['DCIM/100CANON/IMG_0101.CR3']));
    expect(doc.ignored).toEqual([{ relativePath: '.DS_Store', reason: 'OS junk' }]);
    expect(doc.resumedFrom).toEqual({});
    expect(doc.transfer.bytes).toBeGreaterThanOrEqual(1_800_000);
  });

  it('re-ingest skips every file already verified (human: SAFE TO FORMAT; --json: all skipped)', async () => {
    const human = await ingest(cardA);
    expect({ code: human.code, last: lastLine(human.stdout) }).toEqual({ code: 0, last: 'SAFE TO FORMAT' });
    expect(human.stdout).toContain('Skipped 5 (already verified)');
    expect(human.stdout).toMatch(/Uploaded 0 /);

    const again = await ingest(cardA, '--json');
    expect(again.code).toBe(0);
    const doc = json<IngestJson>(again);
    expect(doc.card.created).toBe(false);
    expect(doc.counts).toMatchObject({ files: 5, uploaded: 0, skipped: 5, failed: 0 });
    expect(doc.files.every((f) => f.status === 'skipped' && f.reason === 'already verified')).toBe(true);
    expect(doc.transfer.bytes).toBe(0);
    expect(doc.verdict.safe).toBe(true);
  });

  it('re-ingest from another workstation (no state) reads the files to compare, and uploads a changed file of the same size as a version', async () => {
    const copy = join(work, 'cards', 'A001-copy');
    await cp(cardA, copy, { recursive: true, verbatimSymlinks: true });
    const changed = Buffer.from(A001['DCIM/100CANON/IMG_0002.JPG']);
    changed[500] ^= 0xff; // same name, same size, other content
    await writeFile(join(copy, 'DCIM/100CANON/IMG_0002.JPG'), changed);
    const run = await cli(['ingest', copy, '--project', PROJECT, '--label', 'A001', '--json'], {
      STUDIOVAULT_STATE_DIR: join(work, 'state-other'),
    });
    expect(run.code).toBe(0);
    const doc = json<IngestJson>(run);
    const status = Object.fromEntries(doc.files.map((f) => [f.relativePath, f.status]));
    expect(status).toEqual({
      'DCIM/100CANON/Cafe\u0301.JPG': 'skipped',
      'DCIM/100CANON/IMG_0001.CR3': 'skipped',
      'DCIM/100CANON/IMG_0002.JPG': 'version',
      'DCIM/EMPTY.TXT': 'skipped',
      'PRIVATE/M4ROOT/CLIP/C0001.MP4': 'skipped',
    });
    expect(doc.counts).toMatchObject({ uploaded: 1, versions: 1, skipped: 4 });
    for (const v of onVolumes('A001', 'DCIM/100CANON/IMG_0002~v2.JPG')) expect((await readFile(v)).equals(changed)).toBe(true);
    for (const v of onVolumes('A001', 'DCIM/100CANON/IMG_0002.JPG'))
      expect((await readFile(v)).equals(A001['DCIM/100CANON/IMG_0002.JPG'])).toBe(true);
  });

  it('resumes a file at its byte offset after the CLI was killed mid-file, and ends verified with the same bytes', async () => {
    const size = 300 * 1024 * 1024;
    const card = join(work, 'cards', 'C001');
    await mkdir(join(card, 'CLIPS'), { recursive: true });
    const big = join(card, 'CLIPS', 'BIG.MOV');
    const fh = await open(big, 'w');
    for (let written = 0; written < size; written += 16 * 1024 * 1024)
      await fh.write(randomBytes(Math.min(16 * 1024 * 1024, size - written)));
    await fh.close();
    const source = await sha256File(big);

    const first = startCli(cliPath, ['ingest', card, '--project', PROJECT, '--json'], env());
    const staging = join(primary, '.studiovault', 'staging');
    let seen = 0;
    const deadline = Date.now() + 30_000;
    while (seen < 40 * 1024 * 1024 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      const parts = existsSync(staging) ? (await readdir(staging)).filter((n) => n.endsWith('.part')) : [];
      for (const p of parts) seen = Math.max(seen, (await stat(join(staging, p)).catch(() => ({ size: 0 }))).size);
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(seen).toBeGreaterThanOrEqual(40 * 1024 * 1024);
    expect(seen).toBeLessThan(size); // killed mid-file, not after it
    // the upload URL was on disk before the first byte was sent
    const states = await Promise.all(
      (await readdir(join(stateDir, 'ingest')))
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => JSON.parse(await readFile(join(stateDir, 'ingest', n), 'utf8'))),
    );
    const record = states.find((s) => s.label === 'C001')?.files['CLIPS/BIG.MOV'];
    expect(record).toMatchObject({ size, uploadUrl: expect.stringMatching(/\/files\/[^/]+$/) });
    expect(record.sealed).toBeUndefined();

    const second = await ingest(card, '--json');
    expect(second.code).toBe(0);
    const doc = json<IngestJson>(second);
    expect(doc.resumedFrom['CLIPS/BIG.MOV']).toBeGreaterThanOrEqual(seen);
    expect(doc.resumedFrom['CLIPS/BIG.MOV']).toBeLessThan(size);
    const [file] = doc.files;
    expect(file).toMatchObject({ relativePath: 'CLIPS/BIG.MOV', status: 'stored', resumedFrom: doc.resumedFrom['CLIPS/BIG.MOV'] });
    // the prefix the server had was read from the card only to hash it; the rest was sent
    expect(file.prefixHashed).toBe(doc.resumedFrom['CLIPS/BIG.MOV']);
    expect(doc.transfer.bytes).toBe(size - doc.resumedFrom['CLIPS/BIG.MOV']);
    expect(file.sha256).toBe(source);
    expect(doc.verified).toEqual({ files: 1, of: 1 });
    for (const v of onVolumes('C001', 'CLIPS/BIG.MOV')) expect(await sha256File(v)).toBe(source);
    for (const v of [primary, mirror]) expect(await readdir(join(v, '.studiovault', 'staging'))).toEqual([]);
  }, 90_000);

  describe('through a proxy that damages uploads', () => {
    let proxy: ProxyControl;
    beforeAll(async () => {
      proxy = await startDamagingProxy(t.base);
    });
    afterAll(() => proxy.close());
    const viaProxy = (card: string, ...args: string[]) =>
      cli(['ingest', card, '--project', PROJECT, '--json', ...args], { STUDIOVAULT_SERVER: proxy.url, STUDIOVAULT_TOKEN: t.admin });

    it('bytes that arrive different from the card: reported, uploaded once more from the start, then stored', async () => {
      const data = randomBytes(1_000_000);
      const card = await makeCard('M001', { 'DCIM/IMG_0001.CR3': data });
      proxy.patches = 0;
      proxy.onPatchChunk = (chunk, offset, n) => {
        if (n !== 1 || offset > 0) return chunk;
        const bad = Buffer.from(chunk);
        bad[0] ^= 0xff;
        return bad;
      };
      const run = await viaProxy(card);
      proxy.onPatchChunk = undefined;
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/arrived different from the card.*\(CHECKSUM_MISMATCH\); uploading it again from the start/);
      const doc = json<IngestJson>(run);
      expect(doc.files[0]).toMatchObject({ status: 'stored', xxh64: xxh64(data) });
      expect(doc.verdict.safe).toBe(true);
      for (const v of onVolumes('M001', 'DCIM/IMG_0001.CR3')) expect((await readFile(v)).equals(data)).toBe(true);
    });

    it('bytes that arrive different twice: the file is reported failed, NOT SAFE, exit 1', async () => {
      const card = await makeCard('M002', { 'DCIM/IMG_0001.CR3': randomBytes(500_000), 'DCIM/IMG_0002.CR3': randomBytes(1000) });
      proxy.onPatchChunk = (chunk, offset) => {
        if (offset > 0 || chunk.length < 2000) return chunk;
        const bad = Buffer.from(chunk);
        bad[1000] ^= 0x01;
        return bad;
      };
      const run = await viaProxy(card);
      proxy.onPatchChunk = undefined;
      expect(run.code).toBe(1);
      const doc = json<IngestJson>(run);
      expect(doc.files.map((f) => [f.relativePath, f.status, f.error?.code])).toEqual([
        ['DCIM/IMG_0001.CR3', 'failed', 'CHECKSUM_MISMATCH'],
        ['DCIM/IMG_0002.CR3', 'stored', undefined],
      ]);
      expect(doc.counts).toMatchObject({ uploaded: 1, failed: 1 });
      expect(doc.verdict).toEqual({ safe: false, reason: '1 file(s) of the card were not uploaded' });
    });

    it('a copy damaged on its disk before the read-back: NOT SAFE, exit 1, the file listed with both hashes', async () => {
      const data = randomBytes(300_000);
      const card = await makeCard('X001', { 'DCIM/IMG_0001.CR3': data, 'DCIM/IMG_0002.CR3': randomBytes(1000) });
      // The mirror's disk damages the file after it was written and hashed, before the seal and the read-back.
      proxy.beforeForward = async (method, url) => {
        const m = /^\/api\/uploads\/([^/]+)\/seal$/.exec(url);
        if (method !== 'POST' || !m) return;
        const part = join(mirror, '.studiovault', 'staging', `${m[1]}.part`);
        const bytes = await readFile(part);
        if (bytes.length !== data.length) return;
        bytes[1234] ^= 0xff;
        await writeFile(part, bytes);
      };
      const run = await cli(['ingest', card, '--project', PROJECT], { STUDIOVAULT_SERVER: proxy.url, STUDIOVAULT_TOKEN: t.admin });
      proxy.beforeForward = undefined;
      expect(run.code).toBe(1);
      expect(lastLine(run.stdout)).toBe('NOT SAFE: 1 file(s) at risk: a copy is damaged or missing');
      expect(run.stdout).toContain('Verified on two devices: 1 of 2 file(s)');
      expect(run.stdout).toMatch(
        /^Not verified:\n {2}DCIM\/IMG_0001\.CR3: at risk \(mirror copy does not match: .*\)\n {4}mirror copy mismatch: expected xxh64 ([0-9a-f]{16}) \(card\), observed xxh64 ([0-9a-f]{16})/m,
      );
      const [, expected, observed] = /expected xxh64 ([0-9a-f]{16}) \(card\), observed xxh64 ([0-9a-f]{16})/.exec(run.stdout)!;
      expect(expected).toBe(xxh64(data));
      expect(observed).not.toBe(expected);

      const status = json<{
        notVerified: {
          relativePath: string;
          protection: string;
          expectedXxh64: string;
          copies: { volume: string; state: string; observedXxh64: string }[];
        }[];
      }>(await cli(['status', PROJECT, '--card', 'X001', '--json']));
      expect(status.notVerified).toHaveLength(1);
      expect(status.notVerified[0]).toMatchObject({ relativePath: 'DCIM/IMG_0001.CR3', protection: 'at_risk', expectedXxh64: xxh64(data) });
      expect(status.notVerified[0].copies.find((c) => c.volume === 'mirror')).toMatchObject({ state: 'mismatch', observedXxh64: observed });
    });

    it('a connection cut mid-file (a pulled cable) heals by itself: resumed at the offset, stored, exit 0', async () => {
      const data = randomBytes(8 * 1024 * 1024);
      const card = await makeCard('M003', { 'CLIPS/C0001.MP4': data });
      proxy.patches = 0;
      let cut = false;
      proxy.onPatchChunk = (chunk, offset) => {
        if (!cut && offset > 3 * 1024 * 1024) {
          cut = true;
          return 'cut';
        }
        return chunk;
      };
      const run = await viaProxy(card);
      proxy.onPatchChunk = undefined;
      expect(cut).toBe(true);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/CLIPS\/C0001\.MP4: .*retrying in 0 s/);
      expect(proxy.patches).toBeGreaterThanOrEqual(2);
      const doc = json<IngestJson>(run);
      expect(doc.files[0].networkResumes?.[0]).toBeGreaterThan(0);
      expect(doc.files[0]).toMatchObject({ status: 'stored', xxh64: xxh64(data) });
      for (const v of onVolumes('M003', 'CLIPS/C0001.MP4')) expect((await readFile(v)).equals(data)).toBe(true);
    });
  });

  it("uploads the card's ASC MHL history first, and the server continues it", async () => {
    const files = { 'DCIM/100EOS/IMG_0001.CR3': randomBytes(400_000), 'DCIM/100EOS/IMG_0002.JPG': randomBytes(50_000) };
    const card = await makeCard('H001', files);
    // a camera (or DIT tool) left its history on the card
    const scan = await scanCard(card);
    await sealCardFolder(card, {
      ...scan,
      creator: { toolName: 'Camera', toolVersion: '1.0', hostname: 'eos-r5', creationDate: new Date('2026-09-12T10:00:00Z') },
    });
    const history = (await readdir(join(card, 'ascmhl'))).sort();
    expect(history).toEqual([expect.stringMatching(/^0001_H001_.*\.mhl$/), 'ascmhl_chain.xml']);

    const run = await ingest(card, '--json');
    const doc = json<IngestJson>(run);
    expect(doc.files.map((f) => [f.relativePath, f.kind, f.status])).toEqual([
      [`ascmhl/${history[0]}`, 'history', 'history'],
      ['ascmhl/ascmhl_chain.xml', 'history', 'history'],
      ['DCIM/100EOS/IMG_0001.CR3', 'file', 'stored'],
      ['DCIM/100EOS/IMG_0002.JPG', 'file', 'stored'],
    ]);
    expect(run.code).toBe(0);
    expect(doc.counts).toMatchObject({ files: 2, uploaded: 2, history: 2, failed: 0 });
    for (const v of onVolumes('H001', `ascmhl/${history[0]}`))
      expect((await readFile(v)).equals(await readFile(join(card, 'ascmhl', history[0])))).toBe(true);
    // the server's own generation follows the camera's
    for (const v of [primary, mirror]) {
      const dir = join(v, YEAR, PROJECT, 'H001', 'ascmhl');
      const deadline = Date.now() + 15_000;
      while (!(await readdir(dir)).some((n) => n.startsWith('0002_')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect((await readdir(dir)).some((n) => n.startsWith('0002_'))).toBe(true);
    }
  });

  it('refuses a card that does not fit on the volumes, naming the volume (INSUFFICIENT_STORAGE, exit 1)', async () => {
    const card = await makeCard('HUGE', {});
    await mkdir(card, { recursive: true });
    await writeFile(join(card, 'HUGE.MOV'), '');
    await truncate(join(card, 'HUGE.MOV'), 4 * 1024 ** 4); // sparse: 4 TiB that take no space
    const run = await ingest(card);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: The card does not fit on the (primary|mirror) volume .*missing.*\(INSUFFICIENT_STORAGE\)\n/);
  });
});

describe('studiovault status', () => {
  it("lists the project's cards with their levels and verdicts", async () => {
    const run = await cli(['status', PROJECT]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^CARD\s+STATE\s+FILES\s+SIZE\s+UPLOADING\s+COPIED\s+VERIFIED\s+OFF-SITE\s+IMMUTABLE\s+DRILLED\s+AT RISK\s+VERDICT$/,
    );
    expect(lines.find((l) => l.startsWith('A001 '))).toMatch(/^A001\s+verified\s+6\s+.*\s+0\s+0\s+6\s+0\s+0\s+0\s+0\s+SAFE TO FORMAT$/);
    expect(lines.find((l) => l.startsWith('M002 '))).toMatch(/NOT SAFE: 1 of 2 file\(s\) not received$/);

    const machine = json<{ project: string; cards: { label: string; levels: Record<string, number>; verdict: { safe: boolean } }[] }>(
      await cli(['status', PROJECT, '--json']),
    );
    const b = machine.cards.find((c) => c.label === 'B001')!;
    expect(b.levels).toEqual({ uploading: 0, copied: 0, verified: 2, offsite: 0, immutable: 0, drilled: 0, at_risk: 0 });
    expect(b.verdict.safe).toBe(true);
  });

  it('shows one card, and the files of a card that are not verified', async () => {
    const run = await cli(['status', PROJECT, '--card', 'M002']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Card: +M002$/m);
    expect(run.stdout).toMatch(/^Files: +1 of 2 announced/m);
    expect(lastLine(run.stdout)).toBe('NOT SAFE: 1 of 2 file(s) not received');

    const ok = json<{ card: { label: string; fileCount: number }; notVerified: unknown[] }>(
      await cli(['status', PROJECT, '--card', 'A001', '--json']),
    );
    expect(ok.card).toMatchObject({ label: 'A001', fileCount: 6 });
    expect(ok.notVerified).toEqual([]);

    const missing = await cli(['status', PROJECT, '--card', 'NOPE', '--json']);
    expect(missing.code).toBe(1);
    expect(json(missing)).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining('no card labelled "NOPE"') } });
  });
});

describe('bad input', () => {
  it('exit 2 for a card path that is missing or not a folder, or a missing --project; exit 1 NOT_FOUND for an unknown project; a clear message for an empty card', async () => {
    const missing = await cli(['ingest', join(work, 'no-such-card'), '--project', PROJECT]);
    expect([missing.code, missing.stdout]).toEqual([2, '']);
    expect(missing.stderr).toMatch(/^error: no such folder: .*no-such-card.*\(USAGE_ERROR\)\n$/);

    const file = join(work, 'cards', 'A001', 'DCIM', 'EMPTY.TXT');
    const notDir = await cli(['ingest', file, '--project', PROJECT, '--json']);
    expect(notDir.code).toBe(2);
    expect(json(notDir)).toEqual({ error: { code: 'USAGE_ERROR', message: expect.stringContaining('is not a folder') } });

    const noProject = await cli(['ingest', cardA]);
    expect(noProject.code).toBe(2);
    expect(noProject.stderr).toMatch(/--project <slug>.*\(USAGE_ERROR\)/);

    const unknown = await cli(['ingest', cardA, '--project', 'no-such-project', '--json']);
    expect(unknown.code).toBe(1);
    expect(json(unknown)).toEqual({
      error: { code: 'NOT_FOUND', message: 'No project with slug "no-such-project"', requestId: expect.any(String) },
    });

    const empty = await makeCard('EMPTY', { '.DS_Store': 'junk', '._foo': 'x' });
    const none = await cli(['ingest', empty, '--project', PROJECT]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^error: the card .*EMPTY has no files to ingest \(only 2 item\(s\) that are not media: \.DS_Store, \._foo\); is this the card's root folder\? \(EMPTY_CARD\)\n$/,
    );
    // nothing was announced for it
    const cards = (await t.http().get(`/api/projects/${PROJECT}/cards`).auth(t.admin, { type: 'bearer' }).expect(200)).body;
    expect(cards.map((c: { label: string }) => c.label)).not.toContain('EMPTY');

    const badLabel = await cli(['ingest', cardA, '--project', PROJECT, '--label', '../x']);
    expect(badLabel.code).toBe(2);

    const notLoggedIn = await cli(['ingest', cardA, '--project', PROJECT], { STUDIOVAULT_CONFIG: join(work, 'nobody.json') });
    expect(notLoggedIn.code).toBe(2);
    expect(notLoggedIn.stderr).toContain('NOT_LOGGED_IN');
  });
});

describe('file names', () => {
  it('keeps an NFD name byte for byte on both volumes (not its NFC form)', async () => {
    for (const v of [primary, mirror]) {
      const names = await readdir(join(v, YEAR, PROJECT, 'A001', 'DCIM', '100CANON'), { encoding: 'buffer' });
      expect(names.some((n) => n.equals(Buffer.from('Cafe\u0301.JPG')))).toBe(true);
      expect(names.some((n) => n.equals(Buffer.from('Caf\u00e9.JPG')))).toBe(false);
    }
  });

  it('flags a card holding one name in NFC and in NFD: the second is refused (PATH_COLLISION), NOT SAFE, exit 1', async () => {
    const card = await makeCard('U001', { 'DCIM/Caf\u00e9.JPG': randomBytes(300), 'DCIM/Cafe\u0301.JPG': randomBytes(400) });
    const run = await ingest(card, '--json', '--concurrency', '1');
    expect(run.code).toBe(1);
    const doc = json<IngestJson>(run);
    expect(doc.files.map((f) => f.status).sort()).toEqual(['failed', 'stored']);
    expect(doc.files.find((f) => f.status === 'failed')?.error?.code).toBe('PATH_COLLISION');
    expect(doc.verdict).toEqual({ safe: false, reason: '1 file(s) of the card were not uploaded' });
  });

  it('stores case twins and a name with bidi controls, warns about each, and shows the name escaped', async () => {
    const card = await makeCard('W001', {
      'DCIM/IMG_0001.JPG': randomBytes(300),
      'DCIM/img_0001.jpg': randomBytes(300),
      'DCIM/IMG_\u202Egpj.EXE': randomBytes(300),
    });
    const human = await ingest(card, '--concurrency', '1');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Name warnings (stored as given; 3):');
    expect(human.stdout).toMatch(
      / {2}DCIM\/IMG_<U\+202E>gpj\.EXE: the name holds bidirectional control character\(s\) U\+202E.* \(BIDI_CONTROL\)\n/,
    );
    expect(human.stdout).toMatch(/ {2}DCIM\/IMG_0001\.JPG: differs only in case from "DCIM\/img_0001\.jpg".* \(CASE_TWIN\)\n/);
    expect(human.stdout).toMatch(/ {2}DCIM\/img_0001\.jpg: differs only in case from "DCIM\/IMG_0001\.JPG".* \(CASE_TWIN\)\n/);
    expect(human.stdout + human.stderr).not.toContain('\u202E'); // never raw on the terminal
    expect(human.stderr).toContain('warning: DCIM/IMG_<U+202E>gpj.EXE: the name holds bidirectional control');
    expect(lastLine(human.stdout)).toBe('SAFE TO FORMAT');
    for (const v of [primary, mirror]) {
      const names = (await readdir(join(v, YEAR, PROJECT, 'W001', 'DCIM'), { encoding: 'buffer' })).map((n) => n.toString('hex'));
      expect(names.sort()).toEqual(['IMG_0001.JPG', 'IMG_\u202Egpj.EXE', 'img_0001.jpg'].map((n) => Buffer.from(n).toString('hex')).sort());
    }
    const status = await cli(['status', PROJECT, '--card', 'W001']);
    expect(status.stdout).toContain('Name warnings (stored as given; 3):\n  DCIM/IMG_0001.JPG: differs only in case');
    expect(status.stdout).toContain('  DCIM/IMG_<U+202E>gpj.EXE: the name holds bidirectional control');
    const again = json<IngestJson & { card: { warnings: { relativePath: string; code: string }[] } }>(await ingest(card, '--json'));
    expect(again.card.warnings.map((w) => [w.relativePath, w.code]).sort()).toEqual([
      ['DCIM/IMG_0001.JPG', 'CASE_TWIN'],
      ['DCIM/IMG_\u202Egpj.EXE', 'BIDI_CONTROL'],
      ['DCIM/img_0001.jpg', 'CASE_TWIN'],
    ]);
  });
});

// Last: it restarts the API of every test above. (Two API instances in one process do not work
// side by side: passport's strategies are process-global, the last instance created wins.)
describe('a restarted server', () => {
  it('resumes after the server restarts mid-file (same database, new process) and ends verified', async () => {
    const proxy = await startDamagingProxy(t.base);
    const before = t;
    try {
      const data = randomBytes(96 * 1024 * 1024);
      const card = await makeCard('R001', { 'CLIPS/C0001.MP4': data });
      const run = startCli(
        cliPath,
        ['ingest', card, '--project', PROJECT, '--json'],
        env({ STUDIOVAULT_SERVER: proxy.url, STUDIOVAULT_TOKEN: t.admin }),
      );
      const staging = join(primary, '.studiovault', 'staging');
      let seen = 0;
      const deadline = Date.now() + 30_000;
      while (seen < 8 * 1024 * 1024 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        const parts = existsSync(staging) ? (await readdir(staging)).filter((n) => n.endsWith('.part')) : [];
        for (const p of parts) seen = Math.max(seen, (await stat(join(staging, p)).catch(() => ({ size: 0 }))).size);
      }
      expect(seen).toBeGreaterThanOrEqual(8 * 1024 * 1024);
      expect(seen).toBeLessThan(data.length);
      // The server goes away mid-request (every connection dropped) and comes back, on another port.
      t.app.getHttpServer().closeAllConnections();
      await t.app.close();
      t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror }, before.db.url);
      await rm(before.dataDir, { recursive: true, force: true });
      proxy.target = t.base;

      const done = await run.done;
      expect(done.code).toBe(0);
      expect(done.stderr).toMatch(/CLIPS\/C0001\.MP4: .*retrying in/);
      const doc = json<IngestJson>(done);
      expect(doc.files[0]).toMatchObject({ relativePath: 'CLIPS/C0001.MP4', status: 'stored', xxh64: xxh64(data) });
      expect(doc.verified).toEqual({ files: 1, of: 1 });
      // resumed where the restarted server was, not from byte 0
      expect(Math.max(...(doc.files[0].networkResumes ?? [0]))).toBeGreaterThan(0);
      expect(done.stderr).toMatch(/CLIPS\/C0001\.MP4: going on at [\d.]+ MB of 101 MB/);
      for (const copy of onVolumes('R001', 'CLIPS/C0001.MP4')) expect((await readFile(copy)).equals(data)).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 90_000);
});
