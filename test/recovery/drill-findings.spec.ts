/**
 * What a restore drill finds, said for what it is, over HTTP against the real API (in-process
 * worker, a real Postgres, two volumes) and a disk target in a temp folder (no Ceph needed):
 * an original that matches its hash but cannot be opened is not a copy problem (the drill
 * passes, the file's level and its card's verdict stay); a damaged off-site copy and a missing
 * one are, and put the file at risk with advice to repair it from a good copy.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildCli, lastLine, startCli, type Run } from '../cli/cli-helpers';
import { ADMIN, IngestApp, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { makeJpeg } from './fixtures';

const FILES: Record<string, Buffer> = {
  'DCIM/IMG_0001.JPG': makeJpeg(64, 48),
  // Named as RAWs, bytes that no camera wrote: ingested with matching hashes, but no image inside.
  'DCIM/IMG_0002.CR3': randomBytes(40_000),
  'DCIM/DSC_0003.NEF': randomBytes(30_000),
  'DCIM/IMG_0004.JPG': makeJpeg(80, 60),
  'DCIM/IMG_0005.JPG': makeJpeg(96, 72),
};

interface Finding {
  path?: string;
  check: string;
  kind: string;
  message: string;
  advice: string;
}

let t: IngestApp;
let db: DataSource;
let primary: string;
let mirror: string;
let scratch: string;
let disk: string;
let cardId: string;
let targetId: string;
let cliPath: string;
const cli = (args: string[], input = ''): Promise<Run> =>
  startCli(
    cliPath,
    args,
    { HOME: scratch, STUDIOVAULT_CONFIG: join(scratch, 'conf', 'config.json'), STUDIOVAULT_STATE_DIR: join(scratch, 'state') },
    input,
  ).done;
const admin = () => ({ Authorization: `Bearer ${t.admin}` });
const api = () => t.http();

async function card(): Promise<{ verdict: { safe: boolean; reason: string }; levels: Record<string, number> }> {
  return (await api().get(`/api/cards/${cardId}`).set(admin()).expect(200)).body;
}
async function fileRows(): Promise<Record<string, { protection: string; protectionReason: string | null; openFinding: string | null }>> {
  const items: { relativePath: string; protection: string; protectionReason: string | null; openFinding: string | null }[] = (
    await api().get(`/api/cards/${cardId}/files`).set(admin()).expect(200)
  ).body.items;
  return Object.fromEntries(
    items.map((i) => [i.relativePath, { protection: i.protection, protectionReason: i.protectionReason, openFinding: i.openFinding }]),
  );
}
async function drill() {
  const { id } = (await api().post('/api/drills').set(admin()).expect(200)).body;
  return waitFor(
    async () => (await api().get(`/api/drills/${id}`).set(admin()).expect(200)).body,
    (d) => d.state === 'passed' || d.state === 'failed',
    120_000,
  );
}
/** The object holding a file's off-site copy on the disk target. */
async function objectDir(relativePath: string): Promise<{ dir: string; data: string }> {
  const [c] = await db.query(
    `SELECT c.location, c.version_id FROM copies c JOIN assets a ON a.id = c.asset_id WHERE a.relative_path = $1 AND c.target_id = $2`,
    [relativePath, targetId],
  );
  const dir = join(disk, 'objects', `${c.location}.versions`);
  return { dir, data: join(dir, `${c.version_id}.data`) };
}

beforeAll(async () => {
  primary = await mkdtemp(join(tmpdir(), 'sv-findings-primary-'));
  mirror = await mkdtemp('/dev/shm/sv-findings-mirror-');
  scratch = await mkdtemp(join(tmpdir(), 'sv-findings-scratch-'));
  disk = join(scratch, 'usb');
  await mkdir(disk); // a mounted drive: the server never creates a disk target's folder
  t = await startIngestApp({
    STUDIOVAULT_PRIMARY_ROOT: primary,
    STUDIOVAULT_MIRROR_ROOT: mirror,
    STUDIOVAULT_DISK_TARGET_ROOTS: scratch,
  });
  db = t.app.get(DataSource);
  targetId = (
    await api().post('/api/targets').set(admin()).send({ name: 'USB', kind: 'disk', path: disk, rotatesOffsite: true }).expect(201)
  ).body.target.id;
  await api().post('/api/projects').set(admin()).send({ name: 'Findings', slug: 'findings', type: 'wedding' }).expect(201);
  const created = await api()
    .post('/api/projects/findings/cards')
    .set(admin())
    .send({ label: 'A001', files: Object.keys(FILES).length, bytes: Object.values(FILES).reduce((a, b) => a + b.length, 0) })
    .expect(201);
  cardId = created.body.id;
  for (const [path, data] of Object.entries(FILES)) {
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath: path, data });
    await api()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .set(admin())
      .send(sourceHashes(data))
      .expect(200);
  }
  // Off-site starts after ingest: every file reaches the disk target, and the card is safe.
  await waitFor(
    async () => (await card()).levels.offsite,
    (n) => n === 5,
    90_000,
  );
  await waitFor(
    async () => (await card()).verdict.safe,
    (safe) => safe,
    60_000,
  );
  cliPath = buildCli(join(scratch, 'bin'));
  const login = await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`);
  expect(login.code).toBe(0);
}, 240_000);

afterAll(async () => {
  await t?.close();
  for (const d of [primary, mirror, scratch]) if (d) await rm(d, { recursive: true, force: true });
});

describe('restore drill findings', () => {
  it('a RAW whose original cannot be opened (hashes match): unreadable_original, the drill passes, the card stays safe, the file is not at risk', async () => {
    const d = await drill();
    expect(d.errors).toEqual([]);
    expect(d).toMatchObject({ state: 'passed', errorCount: 0, files: 5, targetName: 'USB' });
    const findings: Finding[] = [...d.findings].sort((a: Finding, b: Finding) => a.path!.localeCompare(b.path!));
    expect(findings).toEqual([
      {
        path: 'A001/DCIM/DSC_0003.NEF',
        check: 'open',
        kind: 'unreadable_original',
        message: expect.stringMatching(/^cannot be opened as an image: \S/),
        advice: expect.stringMatching(/^Not a copy problem: the restored bytes match the hash taken from the card/),
      },
      {
        path: 'A001/DCIM/IMG_0002.CR3',
        check: 'open',
        kind: 'unreadable_original',
        message: expect.stringMatching(/^cannot be opened as an image: \S/),
        advice: expect.stringMatching(/^Not a copy problem/),
      },
    ]);
    // What the opener said is kept as it said it.
    const opened = d.opened.find((o: { path: string }) => o.path === 'A001/DCIM/IMG_0002.CR3');
    expect(opened.ok).toBe(false);
    expect(findings[1].message).toBe(`cannot be opened as an image: ${opened.detail}`);
    expect(d.verdict).toMatch(/^Zero errors: 5 file\(s\).* 2 original\(s\) cannot be opened \(not a copy problem/);
    // The list shows the findings too.
    const [listed] = (await api().get('/api/drills').set(admin()).expect(200)).body;
    expect(listed.findings.map((f: Finding) => f.kind)).toEqual(['unreadable_original', 'unreadable_original']);

    const c = await card();
    expect(c.verdict.safe).toBe(true);
    expect(c.levels.at_risk).toBe(0);
    const rows = await fileRows();
    // The card page shows what the opener said by the file, apart from its level.
    expect(rows['DCIM/IMG_0002.CR3']).toEqual({ protection: 'offsite', protectionReason: null, openFinding: opened.detail });
    expect(rows['DCIM/DSC_0003.NEF']).toEqual({ protection: 'offsite', protectionReason: null, openFinding: expect.any(String) });
    expect(rows['DCIM/IMG_0001.JPG']).toEqual({ protection: 'offsite', protectionReason: null, openFinding: null });
    const states = await db.query(`SELECT DISTINCT state FROM copies WHERE target_id = $1`, [targetId]);
    expect(states).toEqual([{ state: 'uploaded' }]);

    // The CLI says the same: the drill passed; the originals are listed apart, as not copy problems, with what to do.
    const run = await cli(['drill', 'run', '--wait']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  0 errors\n  not copy problems (the drill passes on them; levels and cards unchanged):\n');
    expect(run.stdout).toContain(`    original cannot be opened: A001/DCIM/IMG_0002.CR3: ${findings[1].message}\n`);
    expect(run.stdout).toContain('    what to do (original cannot be opened): Not a copy problem: the restored bytes match the hash');
    expect(run.stdout).not.toMatch(/damaged copy|at risk/);
    expect(lastLine(run.stdout)).toMatch(/^DRILL PASSED: Zero errors: 5 file\(s\)/);
  }, 150_000);

  it('a damaged off-site copy and a missing one: damaged_copy and missing_copy, each file at risk, the card not safe', async () => {
    const damaged = await objectDir('DCIM/IMG_0004.JPG');
    const bytes = await readFile(damaged.data);
    bytes[200] ^= 0xff;
    await writeFile(damaged.data, bytes);
    await rm((await objectDir('DCIM/IMG_0005.JPG')).dir, { recursive: true });

    // The drill, run from the CLI: errors by kind with their advice, the unreadable originals apart; exit 1.
    const run = await cli(['drill', 'run', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('    damaged copy: findings/A001/DCIM/IMG_0004.JPG: the off-site copy on "USB" is damaged: ');
    expect(run.stdout).toContain('    missing copy: findings/A001/DCIM/IMG_0005.JPG: the off-site copy is missing on "USB": ');
    expect(run.stdout).toContain(
      '    what to do (damaged copy): The off-site copy differs from the hash taken from the card: the file is at risk.',
    );
    expect(run.stdout).toContain('    what to do (missing copy): The off-site copy is gone from the target: the file is at risk');
    expect(run.stdout).toContain('  not copy problems (the drill passes on them; levels and cards unchanged):\n');
    expect(run.stdout).toContain('    original cannot be opened: A001/DCIM/DSC_0003.NEF: ');
    expect(lastLine(run.stdout)).toMatch(/^DRILL FAILED: 2 error\(s\): /);

    const [latest] = (await api().get('/api/drills?limit=1').set(admin()).expect(200)).body;
    const d = (await api().get(`/api/drills/${latest.id}`).set(admin()).expect(200)).body;
    expect(d).toMatchObject({ state: 'failed', errorCount: 2, files: 3 });
    const errors: Finding[] = [...d.errors].sort((a: Finding, b: Finding) => a.path!.localeCompare(b.path!));
    expect(errors).toEqual([
      {
        path: 'findings/A001/DCIM/IMG_0004.JPG',
        check: 'hash',
        kind: 'damaged_copy',
        message: expect.stringMatching(/^the off-site copy on "USB" is damaged: content does not match the catalog/),
        advice: expect.stringMatching(/the file is at risk\. Repair it from a good copy/),
      },
      {
        path: 'findings/A001/DCIM/IMG_0005.JPG',
        check: 'restore',
        kind: 'missing_copy',
        message: expect.stringMatching(/^the off-site copy is missing on "USB": .*not found/),
        advice: expect.stringMatching(/^The off-site copy is gone from the target: the file is at risk/),
      },
    ]);
    // The originals that cannot be opened are still findings, not errors.
    expect(d.findings.map((f: Finding) => f.kind)).toEqual(['unreadable_original', 'unreadable_original']);

    const rows = await fileRows();
    expect(rows['DCIM/IMG_0004.JPG']).toEqual({
      protection: 'at_risk',
      protectionReason: expect.stringMatching(/^restore drill: damaged copy: /),
      openFinding: null,
    });
    expect(rows['DCIM/IMG_0005.JPG']).toEqual({
      protection: 'at_risk',
      protectionReason: expect.stringMatching(/^restore drill: missing copy: /),
      openFinding: null,
    });
    expect(rows['DCIM/IMG_0002.CR3'].protection).toBe('offsite');
    expect(rows['DCIM/IMG_0001.JPG'].protection).toBe('offsite');
    // The bad copies no longer count as copies.
    const copies = await db.query(
      `SELECT a.relative_path, c.state FROM copies c JOIN assets a ON a.id = c.asset_id WHERE c.target_id = $1 AND c.state <> 'uploaded'
        ORDER BY a.relative_path`,
      [targetId],
    );
    expect(copies).toEqual([
      { relative_path: 'DCIM/IMG_0004.JPG', state: 'mismatch' },
      { relative_path: 'DCIM/IMG_0005.JPG', state: 'missing' },
    ]);
    const c = await card();
    expect(c.verdict).toEqual({ safe: false, reason: '2 file(s) at risk: a copy is damaged or missing' });
  }, 150_000);
});
