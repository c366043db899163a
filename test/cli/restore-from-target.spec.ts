/**
 * `studiovault restore --from-target`: the disaster restore, from the bucket alone. A real
 * server (API + in-process worker, Postgres, two local volumes) ingests two cards and backs them
 * up to Ceph RGW with Object Lock and to a disk target, as StudioVault does; then the server is
 * stopped, its catalog database dropped and its volumes deleted, and the bundled CLI restores from
 * the targets into empty folders.
 *
 *   cd /work/main && npm exec -- jest test/cli/restore-from-target.spec.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { versionedCardPath } from '@studiovault/contracts';
import { versionedPath } from '@studiovault/ingest';
import { type IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { type Rgw, startRgw } from '../offsite/rgw';
import { buildCli, json, type Run, startCli } from './cli-helpers';

const PROJECT = 'dr-restore';
const YEAR = 2026;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const CARD_A: Record<string, Buffer> = {
  'DCIM/100CANON/IMG_0001.CR3': randomBytes(1_500_000),
  'DCIM/100CANON/IMG_0001.XMP': Buffer.from('<x:xmpmeta/>\n'),
  'DCIM/100CANON/IMG_0002.JPG': randomBytes(200_000),
  'PRIVATE/M4ROOT/CLIP/C0001.MP4': randomBytes(600_000),
};
/** Later, other content under a name card A already has: kept as IMG_0002~v2.JPG. */
const A_LATER: Record<string, Buffer> = { 'DCIM/100CANON/IMG_0002.JPG': randomBytes(180_000) };
const NFD_NAME = 'DCIM/101CANON/Cafe\u0301.JPG';
const CARD_B: Record<string, Buffer> = {
  'DCIM/101CANON/IMG_0101.CR3': randomBytes(900_000),
  [NFD_NAME]: randomBytes(120_000),
};

/** Every file of the project as the restore must write it: relative path → SHA-256. */
function expectedTree(which: { a?: boolean; aLater?: boolean; b?: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  if (which.a) for (const [p, d] of Object.entries(CARD_A)) out[`A001/${p}`] = sha(d);
  if (which.aLater) out['A001/DCIM/100CANON/IMG_0002~v2.JPG'] = sha(A_LATER['DCIM/100CANON/IMG_0002.JPG']);
  if (which.b) for (const [p, d] of Object.entries(CARD_B)) out[`B001/${p}`] = sha(d); // the names byte for byte (NFD stays NFD)
  return out;
}

/** Every file under a folder (hidden ones too: a leftover temp file would show) → SHA-256. */
async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out[r] = sha(await readFile(join(d, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

interface RestoreJson {
  project: string;
  to: string;
  at: { given: string; time: string } | null;
  cards: { label: string; files: number; manifest: { key: string; versionId: string; lastModified: string } }[];
  files: number;
  bytes: number;
  restored: number;
  verified: number;
  failed: number;
  skipped: number;
  otherVersion: number;
  errors: {
    card: string;
    path: string;
    destination: string;
    reason: string;
    message: string;
    expectedSha256?: string;
    actualSha256?: string;
  }[];
  warnings: string[];
}

let t: IngestApp | undefined;
let rgw: Rgw;
let bucket: string;
let work: string;
let cliPath: string;
let primary: string;
let mirror: string;
let diskTarget: string;
let secretFile: string;
/** Before the first byte of the project reached a target. */
let beforeAll_: Date;
/** After card A's first manifests, before anything else. */
let afterA: Date;
const outputs: string[] = [];

const restore = async (args: string[], env: Record<string, string> = {}): Promise<Run> => {
  const r = await startCli(cliPath, ['restore', ...args], { HOME: work, ...env }).done;
  outputs.push(r.stdout, r.stderr);
  return r;
};
const s3 = () => [
  '--from-target',
  '--endpoint',
  rgw.endpoint,
  '--region',
  rgw.region,
  '--bucket',
  bucket,
  '--prefix',
  'studio',
  '--access-key-id',
  rgw.accessKeyId,
  '--secret-access-key-file',
  secretFile,
];
const fresh = async (name: string) => join(await mkdtemp(join(work, `${name}-`)), 'restore');

async function s3Manifest(label: string, bkt = bucket): Promise<{ files: { path: string; sha256: string }[] } | null> {
  try {
    const out = await rgw.client.send(new GetObjectCommand({ Bucket: bkt, Key: `studio/cards/${YEAR}/${PROJECT}/${label}/manifest.json` }));
    return JSON.parse(await out.Body!.transformToString());
  } catch {
    return null;
  }
}

async function diskManifest(label: string): Promise<{ files: { path: string }[] } | null> {
  const dir = join(diskTarget, 'objects', 'cards', String(YEAR), PROJECT, label, 'manifest.json.versions');
  const ids = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .reverse();
  if (!ids.length) return null;
  return JSON.parse(await readFile(join(dir, ids[0].replace(/\.json$/, '.data')), 'utf8'));
}

beforeAll(async () => {
  rgw = startRgw();
  bucket = await rgw.bucket();
  work = await mkdtemp(join(tmpdir(), 'sv-cli-restore-'));
  cliPath = buildCli(join(work, 'bin'));
  secretFile = join(work, 'rgw-secret');
  await writeFile(secretFile, `${rgw.secretAccessKey}\n`, { mode: 0o600 });
  primary = await mkdtemp(join(tmpdir(), 'sv-cli-restore-primary-'));
  mirror = await mkdtemp('/dev/shm/sv-cli-restore-mirror-');
  diskTarget = join(work, 'usb-drive');
  await mkdir(diskTarget); // a mounted drive: the server never creates a disk target's folder
  const app = await startIngestApp({
    STUDIOVAULT_PRIMARY_ROOT: primary,
    STUDIOVAULT_MIRROR_ROOT: mirror,
    STUDIOVAULT_DISK_TARGET_ROOTS: work,
  });
  t = app;
  const admin = { Authorization: `Bearer ${app.admin}` };
  const api = () => app.http();
  await api()
    .post('/api/projects')
    .set(admin)
    .send({ name: 'Disaster drill', slug: PROJECT, shootDate: `${YEAR}-04-18`, type: 'wedding' })
    .expect(201);
  await api()
    .post('/api/targets')
    .set(admin)
    .send({
      name: 'RGW',
      kind: 's3',
      endpoint: rgw.endpoint,
      region: rgw.region,
      bucket,
      prefix: 'studio',
      pathStyle: true,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
    })
    .expect(201);
  await api().post('/api/targets').set(admin).send({ name: 'USB', kind: 'disk', path: diskTarget }).expect(201);

  const ingest = async (label: string, files: Record<string, Buffer>) => {
    const total = Object.values(files).reduce((a, b) => a + b.length, 0);
    const card = await api()
      .post(`/api/projects/${PROJECT}/cards`)
      .set(admin)
      .send({ label, files: Object.keys(files).length, bytes: total });
    expect([200, 201]).toContain(card.status);
    for (const [path, data] of Object.entries(files)) {
      const { url } = await tusUpload({ base: app.base, token: app.admin, cardId: card.body.id, relativePath: path, data });
      await api()
        .post(`/api/uploads/${uploadId(url)}/seal`)
        .set(admin)
        .send(sourceHashes(data))
        .expect(200);
    }
  };
  /** Until `done`, a backup run by hand every few seconds (a run already going is joined). */
  const backUpUntil = async (done: () => Promise<boolean>) => {
    let last = 0;
    await waitFor(
      async () => {
        if (await done()) return true;
        if (Date.now() - last > 5000) {
          last = Date.now();
          await api().post('/api/backup/runs').set(admin).send({});
        }
        return false;
      },
      (ok) => ok,
      240_000,
    );
  };
  const idle = async () => {
    await waitFor(
      async () => (await api().get('/api/backup/status').set(admin).expect(200)).body.targets as { activeRun: unknown }[],
      (targets) => targets.every((x) => x.activeRun === null),
      120_000,
    );
  };

  beforeAll_ = new Date();
  await new Promise((r) => setTimeout(r, 1100));
  await ingest('A001', CARD_A);
  await backUpUntil(async () => (await s3Manifest('A001'))?.files.length === 4 && (await diskManifest('A001'))?.files.length === 4);
  await idle();
  afterA = new Date();
  // S3 keeps LastModified to the second: what comes next must be in a later second.
  await new Promise((r) => setTimeout(r, 1500));
  await ingest('A001', A_LATER);
  await ingest('B001', CARD_B);
  await backUpUntil(
    async () =>
      (await s3Manifest('A001'))?.files.length === 5 &&
      (await s3Manifest('B001'))?.files.length === 2 &&
      (await diskManifest('A001'))?.files.length === 5 &&
      (await diskManifest('B001'))?.files.length === 2,
  );
  await idle();
  // One more run: it finds nothing to send and exports the catalog.
  await api().post('/api/backup/runs').set(admin).send({}).expect(200);
  await idle();

  // The disaster: no server, no catalog, no volumes. Only the bucket and the USB drive remain.
  await app.close();
  t = undefined;
  await rm(primary, { recursive: true, force: true });
  await rm(mirror, { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await t?.close();
  for (const dir of [work, primary, mirror]) if (dir) await rm(dir, { recursive: true, force: true });
  rgw?.client.destroy();
});

afterAll(() => {
  // Whatever happened, the secret key was printed nowhere.
  for (const o of outputs) expect(o).not.toContain(rgw.secretAccessKey);
});

describe('studiovault restore --from-target (bucket alone)', () => {
  it('without a project, lists the projects and cards the bucket holds', async () => {
    const human = await restore(s3());
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Projects in s3 bucket ${bucket}/studio/ at`);
    const row = human.stdout.split('\n').find((l) => l.startsWith(PROJECT))!;
    expect(row.split(/\s{2,}/)[1]).toBe('2');
    expect(row).toMatch(/A001, B001$/);
    expect(human.stdout).toMatch(/Catalog export: catalog\/studiovault-catalog\.json\.gz, .*version\(s\) kept/);

    const machine = await restore([...s3(), '--json']);
    expect(machine.code).toBe(0);
    const doc = json<{
      target: Record<string, unknown>;
      projects: { slug: string; cards: { label: string; manifestVersions: number; lastBackup: string }[] }[];
      catalogExport: { versions: number } | null;
    }>(machine);
    expect(doc.target).toEqual({ kind: 's3', endpoint: rgw.endpoint, region: rgw.region, bucket, prefix: 'studio/' });
    expect(doc.projects.map((p) => p.slug)).toEqual([PROJECT]);
    const cards = doc.projects[0].cards;
    expect(cards.map((c) => c.label)).toEqual(['A001', 'B001']);
    expect(cards[0].manifestVersions).toBeGreaterThanOrEqual(2);
    expect(doc.catalogExport?.versions).toBeGreaterThanOrEqual(1);

    // A wrong prefix finds nothing, and says which folders there are.
    const wrong = await restore(s3().map((a) => (a === 'studio' ? 'nope' : a)));
    expect(wrong.code).toBe(0);
    expect(wrong.stdout).toMatch(/No StudioVault card manifests in .*\n.*Folders there: studio\//);
  });

  it('restores the whole project into an empty folder: every file byte-identical and verified', async () => {
    const to = await fresh('full');
    const r = await restore([...s3(), PROJECT, '--to', to, '--json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const doc = json<RestoreJson>(r);
    const expected = expectedTree({ a: true, aLater: true, b: true });
    expect(doc).toMatchObject({ files: 7, restored: 7, verified: 7, failed: 0, skipped: 0, errors: [], otherVersion: 0 });
    expect(doc.bytes).toBe(
      [...Object.values(CARD_A), ...Object.values(A_LATER), ...Object.values(CARD_B)].reduce((a, b) => a + b.length, 0),
    );
    expect(doc.cards.map((c) => [c.label, c.files])).toEqual([
      ['A001', 5],
      ['B001', 2],
    ]);
    expect(await treeOf(to)).toEqual(expected);

    const human = await restore([...s3(), PROJECT, '--to', await fresh('human')]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Restored 7 of 7 file\(s\)/);
    expect(human.stdout).toMatch(/Verified 7 /);
    expect(human.stdout).toMatch(/Failed 0\n/);
    expect(human.stdout.trimEnd().split('\n').pop()).toBe('RESTORE COMPLETE: 7 file(s), every one verified');
  });

  it('--card and --path select what is restored', async () => {
    const onlyB = await fresh('card');
    expect((await restore([...s3(), PROJECT, '--card', 'B001', '--to', onlyB])).code).toBe(0);
    expect(await treeOf(onlyB)).toEqual(expectedTree({ b: true }));

    const raws = await fresh('raws');
    const r = await restore([...s3(), PROJECT, '--path', 'DCIM/**/*.CR3', '--to', raws, '--json']);
    expect(r.code).toBe(0);
    expect(json<RestoreJson>(r)).toMatchObject({ files: 2, restored: 2, failed: 0 });
    expect(Object.keys(await treeOf(raws)).sort()).toEqual(['A001/DCIM/100CANON/IMG_0001.CR3', 'B001/DCIM/101CANON/IMG_0101.CR3']);

    // A glob without "/" matches names in any folder, case-insensitively; a folder takes what is in it.
    const mixed = await fresh('mixed');
    expect((await restore([...s3(), PROJECT, '--card', 'A001', '--path', '*.xmp', '--path', 'PRIVATE', '--to', mixed])).code).toBe(0);
    expect(Object.keys(await treeOf(mixed)).sort()).toEqual(['A001/DCIM/100CANON/IMG_0001.XMP', 'A001/PRIVATE/M4ROOT/CLIP/C0001.MP4']);

    const none = await restore([...s3(), PROJECT, '--path', '*.NEF', '--to', await fresh('none')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no file of dr-restore .* matches --path \*\.NEF \(NOTHING_TO_RESTORE\)/);

    const noCard = await restore([...s3(), PROJECT, '--card', 'Z999', '--to', await fresh('nocard')]);
    expect(noCard.code).toBe(1);
    expect(noCard.stderr).toMatch(/project dr-restore has no card "Z999" .*\(cards: A001, B001\) \(CARD_NOT_FOUND\)/);

    const noProject = await restore([...s3(), 'no-such-project', '--to', await fresh('noproject')]);
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toMatch(/holds no card manifest of project "no-such-project" \(projects there: dr-restore\)/);
  });

  it('--at restores the manifests current then; before the first backup it fails clearly and writes nothing', async () => {
    const then = await fresh('at');
    const r = await restore([...s3(), PROJECT, '--at', afterA.toISOString(), '--to', then, '--json']);
    expect(r.code).toBe(0);
    const doc = json<RestoreJson>(r);
    expect(doc).toMatchObject({ files: 4, restored: 4, failed: 0, at: { given: afterA.toISOString(), time: afterA.toISOString() } });
    expect(doc.cards.map((c) => c.label)).toEqual(['A001']);
    expect(doc.warnings.join('\n')).toMatch(/card\(s\) B001 of dr-restore had no backup yet at/);
    // The first IMG_0002.JPG only: the later content under that name came after.
    expect(await treeOf(then)).toEqual(expectedTree({ a: true }));

    for (const at of [beforeAll_.toISOString(), '2020-01-01']) {
      const to = await fresh('early');
      const early = await restore([...s3(), PROJECT, '--at', at, '--to', to]);
      expect(early.code).toBe(1);
      expect(early.stdout).toBe('');
      expect(early.stderr).toMatch(
        new RegExp(`^error: no backup of dr-restore existed at ${at.replace(/[.]/g, '\\.')} .*\\(NO_BACKUP_AT\\)\\n$`),
      );
      await expect(stat(to)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('never overwrites an existing file: it is refused and counted failed, the others are restored', async () => {
    const to = await fresh('exists');
    const mine = Buffer.from('the editor has been working on this one\n');
    await mkdir(join(to, 'A001/DCIM/100CANON'), { recursive: true });
    await writeFile(join(to, 'A001/DCIM/100CANON/IMG_0002.JPG'), mine);
    const r = await restore([...s3(), PROJECT, '--card', 'A001', '--to', to, '--json']);
    expect(r.code).toBe(1);
    const doc = json<RestoreJson>(r);
    expect(doc).toMatchObject({ files: 5, restored: 4, verified: 4, failed: 1, skipped: 1 });
    expect(doc.errors).toEqual([
      expect.objectContaining({
        card: 'A001',
        path: 'DCIM/100CANON/IMG_0002.JPG',
        reason: 'exists',
        message: expect.stringMatching(/already exists at the destination; it was not overwritten/),
      }),
    ]);
    expect(await readFile(join(to, 'A001/DCIM/100CANON/IMG_0002.JPG'))).toEqual(mine);
    const tree = await treeOf(to);
    expect(tree).toEqual({ ...expectedTree({ a: true, aLater: true }), 'A001/DCIM/100CANON/IMG_0002.JPG': sha(mine) });

    // The same restore again: everything is there, nothing is touched, every file fails.
    const again = await restore([...s3(), PROJECT, '--card', 'A001', '--to', to]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/Restored 0 of 5 file\(s\)/);
    expect(again.stdout).toMatch(/Failed 5 \(5 of them already existed at the destination and were left as they are\)/);
    expect(again.stdout.trimEnd().split('\n').pop()).toBe('RESTORE INCOMPLETE: 5 of 5 file(s) not restored');
    expect(await treeOf(to)).toEqual(tree);
  });

  it('a destination without space or not writable: a clear error before anything is written', async () => {
    const asFile = join(work, 'a-file');
    await writeFile(asFile, 'x');
    const notDir = await restore([...s3(), PROJECT, '--to', asFile]);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toMatch(/is a file, not a folder \(USAGE_ERROR\)/);

    // A small file system of its own (root can mount a tmpfs here; elsewhere this part is skipped).
    const small = join(work, 'small');
    const ro = join(work, 'read-only');
    await mkdir(small);
    await mkdir(ro);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small], { stdio: 'pipe' });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro], { stdio: 'pipe' });
    } catch {
      console.warn('cannot mount a tmpfs here (not root?): the space and permission cases are skipped');
      return;
    }
    try {
      const full = await restore([...s3(), PROJECT, '--to', join(small, 'restore'), '--json']);
      expect(full.code).toBe(1);
      const err = json<{ error: { code: string; message: string } }>(full).error;
      expect(err.code).toBe('NOT_ENOUGH_SPACE');
      expect(err.message).toMatch(
        /not enough space to restore into .*: 7 file\(s\) need .* \(\d+ bytes\), the disk has .* free: \d+ bytes missing; nothing was restored/,
      );
      expect(await readdir(small)).toEqual([]);

      const denied = await restore([...s3(), PROJECT, '--to', join(ro, 'restore')]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(
        /^error: cannot write to .*: read-only file system \(open\); nothing was restored \(DESTINATION_NOT_WRITABLE\)\n$/,
      );
    } finally {
      execFileSync('umount', [small]);
      execFileSync('umount', [ro]);
    }
  });

  it('a damaged object is caught: that file fails with both hashes and is not put in place; the others are restored', async () => {
    // A copy of the bucket without Object Lock, where one content object can be damaged.
    const copy = await rgw.bucket({ objectLock: false });
    let token: string | undefined;
    do {
      const page = await rgw.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'studio/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const got = await rgw.client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
        await rgw.client.send(
          new PutObjectCommand({
            Bucket: copy,
            Key: o.Key!,
            Body: Buffer.from(await got.Body!.transformToByteArray()),
            Metadata: got.Metadata,
          }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const good = CARD_A['DCIM/100CANON/IMG_0001.CR3'];
    const damaged = Buffer.from(good);
    damaged[123_456] ^= 0x01;
    const h = sha(good);
    await rgw.client.send(
      new PutObjectCommand({ Bucket: copy, Key: `studio/content/sha256/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`, Body: damaged }),
    );

    // And one object is gone altogether.
    const mp4 = sha(CARD_A['PRIVATE/M4ROOT/CLIP/C0001.MP4']);
    await rgw.client.send(
      new DeleteObjectCommand({ Bucket: copy, Key: `studio/content/sha256/${mp4.slice(0, 2)}/${mp4.slice(2, 4)}/${mp4}` }),
    );

    const args = s3().map((a) => (a === bucket ? copy : a));
    const to = await fresh('damaged');
    const r = await restore([...args, PROJECT, '--to', to, '--json']);
    expect(r.code).toBe(1);
    const doc = json<RestoreJson>(r);
    expect(doc).toMatchObject({ files: 7, restored: 5, verified: 5, failed: 2, skipped: 0 });
    expect(doc.otherVersion).toBe(6); // the copy has its own version ids: current versions, checked by SHA-256
    expect(doc.errors).toEqual([
      expect.objectContaining({
        card: 'A001',
        path: 'DCIM/100CANON/IMG_0001.CR3',
        reason: 'mismatch',
        expectedSha256: h,
        actualSha256: sha(damaged),
      }),
      expect.objectContaining({
        card: 'A001',
        path: 'PRIVATE/M4ROOT/CLIP/C0001.MP4',
        reason: 'missing',
        message: expect.stringMatching(/NoSuchKey|not found/),
      }),
    ]);
    expect(doc.errors[0].message).toContain(h);
    expect(doc.errors[0].message).toContain(sha(damaged));
    const expected = expectedTree({ a: true, aLater: true, b: true });
    delete expected['A001/DCIM/100CANON/IMG_0001.CR3'];
    delete expected['A001/PRIVATE/M4ROOT/CLIP/C0001.MP4'];
    expect(await treeOf(to)).toEqual(expected); // not there, and no temp file left

    const human = await restore([...args, PROJECT, '--card', 'A001', '--path', '*.CR3', '--to', await fresh('damaged-human')]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      new RegExp(
        `FAILED A001/DCIM/100CANON/IMG_0001\\.CR3: the content on the target does not match the manifest: SHA-256 expected ${h}, got ${sha(damaged)} .*\\(mismatch\\)`,
      ),
    );
    expect(human.stderr).toMatch(/the target does not have the object versions the manifest names/);
    expect(human.stdout.trimEnd().split('\n').pop()).toBe('RESTORE INCOMPLETE: 1 of 1 file(s) not restored');
  });

  it('restores from a disk target folder the same way, --at included', async () => {
    const list = await restore(['--from-target', '--target-path', diskTarget, '--json']);
    expect(list.code).toBe(0);
    expect(json<{ projects: { slug: string; cards: { label: string }[] }[] }>(list).projects).toEqual([
      { slug: PROJECT, cards: [expect.objectContaining({ label: 'A001' }), expect.objectContaining({ label: 'B001' })] },
    ]);
    const to = await fresh('disk');
    const r = await restore(['--from-target', '--target-path', diskTarget, PROJECT, '--to', to, '--json']);
    expect(r.code).toBe(0);
    expect(json<RestoreJson>(r)).toMatchObject({ files: 7, restored: 7, verified: 7, failed: 0, otherVersion: 0 });
    expect(await treeOf(to)).toEqual(expectedTree({ a: true, aLater: true, b: true }));

    const then = await fresh('disk-at');
    expect((await restore(['--from-target', '--target-path', diskTarget, PROJECT, '--at', afterA.toISOString(), '--to', then])).code).toBe(
      0,
    );
    expect(await treeOf(then)).toEqual(expectedTree({ a: true }));

    const notTarget = await restore(['--from-target', '--target-path', work]);
    expect(notTarget.code).toBe(1);
    expect(notTarget.stderr).toMatch(/not a StudioVault target folder \(studiovault-target\.json is missing\) \(TARGET_NOT_FOUND\)/);
  });

  it('bad flags are usage errors (exit 2); bad credentials and an unreachable endpoint are clear, and the secret never shows', async () => {
    const usage = async (args: string[], message: RegExp) => {
      const r = await restore(args);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(/^error: [^\n]+ \(USAGE_ERROR\)\n$/);
      expect(r.stderr).toMatch(message);
    };
    await usage(['--from-target', PROJECT, '--to', join(work, 'x')], /name the target to restore from: --endpoint URL/);
    await usage([...s3(), '--target-path', work], /give one target: .*not both/);
    await usage([...s3(), PROJECT], /--to DIR is missing/);
    await usage([...s3(), '--card', 'A001'], /--card needs a project/);
    await usage([...s3(), PROJECT, '--to', join(work, 'x'), '--at', 'last tuesday'], /'--at <date>' argument 'last tuesday' is invalid/);
    await usage([...s3(), 'Not A Slug', '--to', join(work, 'x')], /is not a slug/);
    await usage(
      s3().map((a) => (a === secretFile ? join(work, 'no-such-file') : a)),
      /cannot read the secret key file .*no-such-file: no such file/,
    );
    const wrongSecret = join(work, 'wrong-secret');
    await writeFile(wrongSecret, 'not-the-secret-at-all-0000\n', { mode: 0o600 });
    const denied = await restore([...s3().map((a) => (a === secretFile ? wrongSecret : a)), '--json']);
    expect(denied.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(denied).error).toMatchObject({
      code: 'TARGET_ACCESS_DENIED',
      message: expect.stringMatching(/SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId|403/),
    });
    expect(denied.stdout + denied.stderr).not.toContain('not-the-secret-at-all-0000');

    const down = await restore(s3().map((a) => (a === rgw.endpoint ? 'http://127.0.0.1:9' : a)));
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(
      /^error: s3 bucket .* at 127\.0\.0\.1:9: list cards\/: ECONNREFUSED: nothing answers .*\(TARGET_UNREACHABLE\)\n$/,
    );

    // The credentials from the environment instead of flags.
    const fromEnv = await restore(
      s3().filter(
        (a, i, all) =>
          !['--access-key-id', '--secret-access-key-file'].includes(a) &&
          !['--access-key-id', '--secret-access-key-file'].includes(all[i - 1]),
      ),
      { STUDIOVAULT_RESTORE_ACCESS_KEY_ID: rgw.accessKeyId, STUDIOVAULT_RESTORE_SECRET_ACCESS_KEY_FILE: secretFile },
    );
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(PROJECT);
  });

  it('a manifest hidden by a delete marker (a plain DELETE is allowed under Object Lock) is still found, with a warning', async () => {
    await rgw.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `studio/cards/${YEAR}/${PROJECT}/B001/manifest.json` }));
    expect(await s3Manifest('B001')).toBeNull(); // what a plain GET sees now

    const list = json<{ projects: { cards: { label: string; deleteMarker: boolean; manifestVersions: number }[] }[] }>(
      await restore([...s3(), '--json']),
    );
    expect(list.projects[0].cards.find((c) => c.label === 'B001')).toMatchObject({ deleteMarker: true });
    const to = await fresh('marker');
    const r = await restore([...s3(), PROJECT, '--card', 'B001', '--to', to]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: the manifest of card B001 was deleted on the target at .* \(a delete marker\); restoring its last version/,
    );
    expect(await treeOf(to)).toEqual(expectedTree({ b: true }));
  });

  it('names later versions as the server does on its volumes (NAME~vN.EXT)', () => {
    for (const p of [
      'IMG_0001.CR3',
      'DCIM/100CANON/IMG_0001.CR3',
      'a/archive.tar.gz',
      '.hidden',
      'dir/.hidden',
      'noext',
      'dir/file.',
      'dir.x/file',
    ]) {
      for (const v of [1, 2, 13]) expect([p, v, versionedCardPath(p, v)]).toEqual([p, v, versionedPath(p, v)]);
    }
  });
});
