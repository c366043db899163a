/**
 * `studiovault restore PROJECT --to DIR` (through the server) and `studiovault drill …`: the
 * bundled CLI as a child process against the real API with its in-process worker and a real
 * Postgres database, two local volumes (the primary on the temp dir's disk, the mirror on
 * /dev/shm) and, for the drills and --from offsite, a disk target in a temp folder.
 *
 *   cd /work/main && npx jest test/cli/restore.spec.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { ADMIN, type IngestApp, startIngestApp, waitFor } from '../ingest/ingest-helpers';
import { buildCli, json, lastLine, type Run, startCli, startDamagingProxy } from './cli-helpers';

const PROJECT = 'restore-cli';

/** Two cards. The names end in .BIN (and .XMP, .XML): random bytes named .CR3 or .JPG would fail the drill's "open it like a person" check. */
const CARDS: Record<string, Record<string, Buffer>> = {
  A001: {
    'DCIM/100CANON/IMG_0001.BIN': randomBytes(1_500_000),
    'DCIM/100CANON/IMG_0002.BIN': randomBytes(700_000),
    'DCIM/100CANON/IMG_0002.XMP': Buffer.from('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>\n'),
  },
  B002: {
    'PRIVATE/M4ROOT/CLIP/C0001.BIN': randomBytes(2_100_000),
    'PRIVATE/M4ROOT/CLIP/C0001M01.XML': Buffer.from('<?xml version="1.0"?><NonRealTimeMeta/>\n'),
  },
};
/** Every file as it is restored: <card label>/<path on the card>. */
const ALL: Record<string, Buffer> = Object.fromEntries(
  Object.entries(CARDS).flatMap(([label, files]) => Object.entries(files).map(([rel, data]) => [`${label}/${rel}`, data])),
);
const ALL_BYTES = Object.values(ALL).reduce((a, b) => a + b.length, 0);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface RestoreDoc {
  project: string;
  to: string;
  from: string;
  files: number;
  bytes: number;
  restored: number;
  verified: number;
  failed: number;
  seconds: number;
  sources: Record<string, number>;
  errors: { path: string; message: string; reason: string; expectedSha256?: string; actualSha256?: string | null }[];
  warnings: string[];
}
interface DrillDoc {
  id: string;
  trigger: string;
  state: string;
  targetName: string | null;
  files: number;
  bytes: number;
  errorCount: number;
  errors: { path?: string; check: string; message: string }[];
  verdict: string | null;
  opened?: { path: string; thumbnail?: string }[];
}
interface ErrorDoc {
  error: { code: string; message: string; details?: string[] };
}

let t: IngestApp;
let cliPath: string;
let work: string;
let primary: string;
let mirror: string;
let configFile: string;
/** Between the ingest of A001 and that of B002. */
let betweenCards: Date;
let projectCreated: Date;
let n = 0;

const cli = (args: string[], input = ''): Promise<Run> =>
  startCli(cliPath, args, { HOME: work, STUDIOVAULT_CONFIG: configFile, STUDIOVAULT_STATE_DIR: join(work, 'state') }, input).done;
const admin = { type: 'bearer' as const };
/** A folder that does not exist yet, under the work dir. */
const freshDir = () => join(work, 'restores', `r${++n}`);

/** Every file under `dir`, as relative paths with "/". */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

async function expectRestored(dir: string, paths: string[]): Promise<void> {
  expect(await tree(dir)).toEqual([...paths].sort());
  for (const p of paths) expect((await readFile(join(dir, p))).equals(ALL[p])).toBe(true);
}

/** The file on a volume (or a target) whose bytes are `data`. */
async function findCopy(root: string, data: Buffer): Promise<string> {
  for (const rel of await tree(root)) {
    const path = join(root, rel);
    if ((await stat(path)).size === data.length && (await readFile(path)).equals(data)) return path;
  }
  throw new Error(`no copy of ${data.length} bytes under ${root}`);
}

/** Overwrites bytes in the middle of a file (its size stays); returns the original bytes to put back. */
async function damage(path: string): Promise<Buffer> {
  const before = await readFile(path);
  const fh = await open(path, 'r+');
  await fh.write(Buffer.from('DAMAGED!'), 0, 8, Math.floor(before.length / 2));
  await fh.close();
  return before;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-cli-restore-'));
  cliPath = buildCli(join(work, 'bin'));
  primary = await mkdtemp(join(tmpdir(), 'sv-cli-restore-primary-')); // ext4
  mirror = await mkdtemp('/dev/shm/sv-cli-restore-mirror-'); // tmpfs: another device
  configFile = join(work, 'conf', 'config.json');
  // Disk targets only under the work dir (the drill tests' "USB drive" is a folder there).
  t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror, STUDIOVAULT_DISK_TARGET_ROOTS: work });
  // Off-site runs only when a test starts one.
  const settings = (await t.http().get('/api/backup/settings').auth(t.admin, admin).expect(200)).body;
  await t
    .http()
    .put('/api/backup/settings')
    .auth(t.admin, admin)
    .send({ ...settings, onIngest: false })
    .expect(200);
  const created = await t.http().post('/api/projects').auth(t.admin, admin).send({ name: 'Restore CLI', slug: PROJECT, type: 'wedding' });
  expect(created.status).toBe(201);
  projectCreated = new Date(created.body.createdAt);
  const login = await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`);
  expect(login.code).toBe(0);

  for (const [label, files] of Object.entries(CARDS)) {
    if (label === 'B002') {
      await new Promise((r) => setTimeout(r, 50));
      betweenCards = new Date();
      await new Promise((r) => setTimeout(r, 50));
    }
    const card = join(work, 'cards', label);
    for (const [rel, data] of Object.entries(files)) {
      await mkdir(dirname(join(card, rel)), { recursive: true });
      await writeFile(join(card, rel), data);
    }
    const ingest = await cli(['ingest', card, '--project', PROJECT]);
    expect({ code: ingest.code, stderr: ingest.code ? ingest.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const count = Object.keys(files).length;
    expect(ingest.stdout).toContain(`Verified on two devices: ${count} of ${count} file(s)`);
  }
}, 180_000);

afterAll(async () => {
  await t?.close();
  for (const dir of [work, primary, mirror]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('studiovault restore (through the server)', () => {
  it('restores a project into a folder it creates: every file byte-identical, exit 0, --json counts', async () => {
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--to', to, '--json']);
    expect(run.code).toBe(0);
    const doc = json<RestoreDoc>(run);
    expect(doc).toMatchObject({
      project: PROJECT,
      to,
      from: 'auto',
      files: 5,
      bytes: ALL_BYTES,
      restored: 5,
      verified: 5,
      failed: 0,
      errors: [],
      warnings: [],
      sources: { primary: 5 },
    });
    expect(doc.seconds).toEqual(expect.any(Number));
    await expectRestored(to, Object.keys(ALL)); // no temp file left either
  });

  it('prints a summary for people: restored, verified, failed', async () => {
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--to', to]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Project ${PROJECT} "Restore CLI", from the best healthy copy, into ${to}`);
    expect(lines[1]).toMatch(/^Restored 5 of 5 file\(s\), 4\.\d\d MB in \d+:\d\d \([\d.]+ MB\/s\)$/);
    expect(lines[2]).toBe('Verified 5 (SHA-256 of the bytes written matches the catalog); read 5 from the primary volume');
    expect(lines[3]).toBe('Failed 0');
    expect(lines[4]).toBe('RESTORE COMPLETE: 5 file(s), every one verified');
    expect(run.stderr).toContain(`Restoring 5 file(s), 4.`);
    await expectRestored(to, Object.keys(ALL));
  });

  it('--card and --path select what is restored', async () => {
    const byCard = freshDir();
    const card = await cli(['restore', PROJECT, '--card', 'B002', '--to', byCard, '--json']);
    expect(card.code).toBe(0);
    expect(json<RestoreDoc>(card)).toMatchObject({ files: 2, restored: 2, failed: 0 });
    await expectRestored(byCard, ['B002/PRIVATE/M4ROOT/CLIP/C0001.BIN', 'B002/PRIVATE/M4ROOT/CLIP/C0001M01.XML']);

    // A glob without "/" matches names in any folder, in any case.
    const byGlob = freshDir();
    const glob = await cli(['restore', PROJECT, '--path', '*.bin', '--to', byGlob, '--json']);
    expect(glob.code).toBe(0);
    expect(json<RestoreDoc>(glob)).toMatchObject({ files: 3, restored: 3 });
    await expectRestored(byGlob, [
      'A001/DCIM/100CANON/IMG_0001.BIN',
      'A001/DCIM/100CANON/IMG_0002.BIN',
      'B002/PRIVATE/M4ROOT/CLIP/C0001.BIN',
    ]);

    const both = freshDir();
    const one = await cli(['restore', PROJECT, '--card', 'A001', '--path', 'DCIM/**/IMG_0002.*', '--card', 'B002', '--to', both, '--json']);
    expect(one.code).toBe(0);
    expect(json<RestoreDoc>(one)).toMatchObject({ files: 2, restored: 2 });
    await expectRestored(both, ['A001/DCIM/100CANON/IMG_0002.BIN', 'A001/DCIM/100CANON/IMG_0002.XMP']);

    const unknown = await cli(['restore', PROJECT, '--card', 'Z999', '--to', freshDir()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`error: Project "${PROJECT}" has no card "Z999" (CARD_NOT_FOUND)\n`);
    const none = await cli(['restore', PROJECT, '--path', '*.CR3', '--to', freshDir(), '--json']);
    expect(none.code).toBe(1);
    expect(json<ErrorDoc>(none).error).toEqual({
      code: 'NOTHING_TO_RESTORE',
      message: `no file of ${PROJECT} (card(s) A001, B002) matches --path *.CR3`,
    });
  });

  it("--path selects the same files as the server's restore plan (the portal's): one rule, any case, a name at any depth", async () => {
    const cases: [string, number][] = [
      ['*.BIN', 3],
      ['*.bin', 3],
      ['100canon', 3],
      ['private/**/*.XML', 1],
      ['DCIM/*/IMG_000?.*', 3],
    ];
    for (const [pattern, count] of cases) {
      const plan = await t.http().get(`/api/projects/${PROJECT}/restore-plan`).query({ path: pattern }).auth(t.admin, admin).expect(200);
      const server = plan.body.files.map((f: { restorePath: string }) => f.restorePath).sort();
      expect({ pattern, n: server.length }).toEqual({ pattern, n: count });
      const to = freshDir();
      const run = await cli(['restore', PROJECT, '--path', pattern, '--to', to, '--json']);
      expect({ pattern, code: run.code }).toEqual({ pattern, code: 0 });
      expect(await tree(to)).toEqual(server);
    }
    // A pattern that is not one: the server says 400 INVALID_RESTORE_PATTERN, the CLI a usage error before it connects.
    const bad = '+(a|aa)+(a|aa)+(a|aa)b';
    const res = await t.http().get(`/api/projects/${PROJECT}/restore-plan`).query({ path: bad }).auth(t.admin, admin).expect(400);
    expect(res.body.code).toBe('INVALID_RESTORE_PATTERN');
    const run = await cli(['restore', PROJECT, '--path', bad, '--to', freshDir()]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/extended-glob syntax/);
  });

  it('--from mirror reads every file from the mirror volume', async () => {
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--from', 'mirror', '--to', to, '--json']);
    expect(run.code).toBe(0);
    expect(json<RestoreDoc>(run)).toMatchObject({ from: 'mirror', files: 5, restored: 5, verified: 5, failed: 0, sources: { mirror: 5 } });
    await expectRestored(to, Object.keys(ALL));

    const bad = await cli(['restore', PROJECT, '--from', 'nas2', '--to', to]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: option '--from <source>' argument 'nas2' is invalid\. Allowed choices are primary, mirror, offsite\. \(USAGE_ERROR\)\n$/,
    );
  });

  it('--from offsite before any backup: every file fails, naming why; exit 1, nothing written', async () => {
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--from', 'offsite', '--to', to, '--json']);
    expect(run.code).toBe(1);
    const doc = json<RestoreDoc>(run);
    expect(doc).toMatchObject({ files: 5, restored: 0, verified: 0, failed: 5 });
    expect(doc.errors.map((e) => e.reason)).toEqual(['no-copy', 'no-copy', 'no-copy', 'no-copy', 'no-copy']);
    expect(doc.errors[0].message).toMatch(/no healthy offsite copy to restore from \(NO_HEALTHY_COPY\)$/);
    expect(await tree(to)).toEqual([]);
  });

  it('restoring again into the same folder is refused, naming the files there; nothing changes', async () => {
    const to = freshDir();
    expect((await cli(['restore', PROJECT, '--to', to])).code).toBe(0);
    // One file is gone (moved away), the others are still there: the restore still writes nothing.
    await unlink(join(to, 'B002/PRIVATE/M4ROOT/CLIP/C0001.BIN'));
    const before = await Promise.all((await tree(to)).map(async (p) => [p, (await stat(join(to, p))).mtimeMs] as const));

    const human = await cli(['restore', PROJECT, '--to', to]);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    const lines = human.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `error: 4 of the 5 file(s) to restore are already in ${to} (A001/DCIM/100CANON/IMG_0001.BIN, A001/DCIM/100CANON/IMG_0002.BIN, ` +
        'A001/DCIM/100CANON/IMG_0002.XMP, B002/PRIVATE/M4ROOT/CLIP/C0001M01.XML): existing files are never overwritten; ' +
        'restore into an empty folder or move them away; nothing was restored (FILES_EXIST)',
    );
    expect(lines.slice(1)).toEqual([
      '  - A001/DCIM/100CANON/IMG_0001.BIN',
      '  - A001/DCIM/100CANON/IMG_0002.BIN',
      '  - A001/DCIM/100CANON/IMG_0002.XMP',
      '  - B002/PRIVATE/M4ROOT/CLIP/C0001M01.XML',
    ]);

    const machine = await cli(['restore', PROJECT, '--to', to, '--json']);
    expect(machine.code).toBe(1);
    expect(json<ErrorDoc>(machine).error).toMatchObject({ code: 'FILES_EXIST', details: lines.slice(1).map((l) => l.slice(4)) });

    const after = await Promise.all((await tree(to)).map(async (p) => [p, (await stat(join(to, p))).mtimeMs] as const));
    expect(after).toEqual(before);
    expect(after.map(([p]) => p)).not.toContain('B002/PRIVATE/M4ROOT/CLIP/C0001.BIN');
  });

  it('a folder that cannot be written to, or a file where the folder should be: a clear error, nothing written', async () => {
    const locked = join(work, 'locked');
    await mkdir(locked);
    let immutable = false;
    try {
      // The tests run as root, for whom permission bits mean nothing; the immutable attribute stops root too.
      execFileSync('chattr', ['+i', locked], { stdio: 'pipe' });
      immutable = true;
    } catch {
      // chattr not there, or a file system without the attribute: the other cases below still run.
    }
    try {
      if (immutable) {
        const run = await cli(['restore', PROJECT, '--to', join(locked, 'anna')]);
        expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
        expect(run.stderr).toBe(
          `error: cannot write to ${locked} (to create ${join(locked, 'anna')} in it): operation not permitted (open); ` +
            'nothing was restored (DESTINATION_NOT_WRITABLE)\n',
        );
        const inside = await cli(['restore', PROJECT, '--to', locked, '--json']);
        expect(inside.code).toBe(1);
        expect(json<ErrorDoc>(inside).error).toEqual({
          code: 'DESTINATION_NOT_WRITABLE',
          message: `cannot write to ${locked}: operation not permitted (open); nothing was restored`,
        });
      }
    } finally {
      if (immutable) execFileSync('chattr', ['-i', locked]);
    }
    expect(await readdir(locked)).toEqual([]);

    const file = join(work, 'a-file');
    await writeFile(file, 'not a folder');
    const under = await cli(['restore', PROJECT, '--to', join(file, 'restore')]);
    expect(under.code).toBe(1);
    expect(under.stderr).toBe(
      `error: cannot restore into ${join(file, 'restore')}: ${file} is a file, not a folder; nothing was restored (DESTINATION_NOT_WRITABLE)\n`,
    );
    const onto = await cli(['restore', PROJECT, '--to', file]);
    expect(onto.code).toBe(1);
    expect(onto.stderr).toBe(
      `error: cannot restore into ${file} (--to ${file}): it is a file, not a folder; nothing was restored (DESTINATION_NOT_WRITABLE)\n`,
    );
    expect(await readFile(file, 'utf8')).toBe('not a folder');

    const usage = await cli(['restore', PROJECT]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: --to DIR is missing: the folder to restore into .* \(USAGE_ERROR\)\n$/);
    const targetFlag = await cli(['restore', PROJECT, '--to', freshDir(), '--bucket', 'studio-vault']);
    expect(targetFlag.code).toBe(2);
    expect(targetFlag.stderr).toMatch(/^error: --bucket goes with --from-target .* \(USAGE_ERROR\)\n$/);
  });

  it('a disk without room for every file, or mounted read-only: a clear error naming the bytes missing, nothing written', async () => {
    const small = join(work, 'small-disk');
    await mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { stdio: 'pipe' });
    } catch {
      // Not allowed to mount here: the check is the same statfs() as on any disk.
      console.warn('restore.spec: cannot mount a small tmpfs; the no-space case is not tested');
      return;
    }
    try {
      const fs = await statfs(small);
      const free = Number(fs.bavail) * Number(fs.bsize);
      const needed = Object.values(ALL).reduce((a, d) => a + Math.ceil(d.length / Number(fs.bsize)) * Number(fs.bsize), 0);
      const to = join(small, 'anna');
      const run = await cli(['restore', PROJECT, '--to', to, '--json']);
      expect(run.code).toBe(1);
      const { error } = json<ErrorDoc>(run);
      expect(error.code).toBe('NOT_ENOUGH_SPACE');
      expect(error.message).toBe(
        `not enough space to restore into ${to}: 5 file(s) of 4.30 MB take ${needed} bytes on its disk, which has ${free} bytes ` +
          `(${(free / 1e6).toFixed(2)} MB) free: ${needed - free} bytes (${((needed - free) / 1e6).toFixed(2)} MB) missing; nothing was restored`,
      );
      expect(await readdir(small)).toEqual([]);
      // The small sidecars fit.
      const fits = await cli(['restore', PROJECT, '--path', '*.XMP', '--path', '*.XML', '--to', to, '--json']);
      expect(fits.code).toBe(0);
      expect(json<RestoreDoc>(fits)).toMatchObject({ files: 2, restored: 2 });

      execFileSync('mount', ['-o', 'remount,ro', small]);
      const ro = await cli(['restore', PROJECT, '--card', 'B002', '--to', join(small, 'ben')]);
      expect(ro.code).toBe(1);
      expect(ro.stderr).toBe(
        `error: cannot write to ${small} (to create ${join(small, 'ben')} in it): read-only file system (open); ` +
          'nothing was restored (DESTINATION_NOT_WRITABLE)\n',
      );
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('a server that stops answering during the downloads: each file tried 3 times, then one error, exit 3', async () => {
    const proxy = await startDamagingProxy(t.base);
    // The plan goes through; every download's connection is dropped.
    proxy.beforeForward = (_method, url) => (url.includes('/content') ? Promise.reject(new Error('pulled cable')) : Promise.resolve());
    try {
      const to = freshDir();
      const env = { HOME: work, STUDIOVAULT_CONFIG: configFile, STUDIOVAULT_SERVER: proxy.url, STUDIOVAULT_TOKEN: t.admin };
      const run = await startCli(cliPath, ['restore', PROJECT, '--card', 'A001', '--to', to], env).done;
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 3, stdout: '' });
      expect(run.stderr).toContain('A001/DCIM/100CANON/IMG_0001.BIN: cannot reach the StudioVault server at');
      expect(run.stderr).toContain('trying again in 2 s\n');
      expect(lastLine(run.stderr)).toBe(
        `error: cannot reach the StudioVault server at ${proxy.url}: the connection was closed (UND_ERR_SOCKET); ` +
          'nothing was restored (SERVER_UNREACHABLE)',
      );
      expect(await tree(to)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('--at passes through: before the project existed is one clear error; between the cards restores the first card', async () => {
    const before = new Date(projectCreated.getTime() - 3_600_000).toISOString();
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--at', before, '--to', to]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: Project "${PROJECT}" did not exist at ${before.replace(/[.]/g, '\\.')} \\(created [^)]+\\) \\(VALIDATION_FAILED\\)\\n$`,
      ),
    );
    await expect(stat(to)).rejects.toMatchObject({ code: 'ENOENT' });

    const then = freshDir();
    const between = await cli(['restore', PROJECT, '--at', betweenCards.toISOString(), '--to', then, '--json']);
    expect(between.code).toBe(0);
    expect(json<RestoreDoc>(between)).toMatchObject({ files: 3, restored: 3, failed: 0 });
    await expectRestored(
      then,
      Object.keys(ALL).filter((p) => p.startsWith('A001/')),
    );
  });

  it('a damaged primary copy: --from primary fails that file naming both hashes (exit 1), the others are restored; without --from the mirror stands in; each time the CLI reports the damaged copy and the server heals it', async () => {
    const victim = 'A001/DCIM/100CANON/IMG_0002.BIN';
    const onDisk = await findCopy(primary, ALL[victim]);
    const db = t.app.get(DataSource);
    /** The damaged copies the CLI reported and the server healed (from the mirror), with the damaged bytes in quarantine. */
    const healedReports = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM integrity_findings WHERE found_by = 'cli' AND volume_role = 'primary' AND kind = 'mismatch'
              AND outcome = 'healed' AND healed_from = 'mirror' AND quarantine_path IS NOT NULL`,
        )
      )[0].n as number;
    const waitHealed = async (n: number) => {
      await waitFor(healedReports, (x) => x === n, 60_000);
      expect((await readFile(onDisk)).equals(ALL[victim])).toBe(true); // the primary's copy is good again
    };
    const original = await damage(onDisk);
    const damagedSha = sha(await readFile(onDisk));
    try {
      const to = freshDir();
      const run = await cli(['restore', PROJECT, '--from', 'primary', '--to', to, '--json']);
      expect(run.code).toBe(1);
      const doc = json<RestoreDoc>(run);
      expect(doc).toMatchObject({ files: 5, restored: 4, verified: 4, failed: 1, sources: { primary: 4 } });
      expect(doc.errors).toEqual([
        {
          path: victim,
          card: 'A001',
          reason: 'mismatch',
          message:
            `the bytes read from the primary volume do not match the catalog: SHA-256 expected ${sha(ALL[victim])}, ` +
            `got ${damagedSha}; not written`,
          expectedSha256: sha(ALL[victim]),
          actualSha256: damagedSha,
          source: 'primary',
        },
      ]);
      await expectRestored(
        to,
        Object.keys(ALL).filter((p) => p !== victim),
      );
      await waitHealed(1);

      await damage(onDisk);
      const human = await cli(['restore', PROJECT, '--from', 'primary', '--to', freshDir()]);
      expect(human.code).toBe(1);
      expect(human.stdout).toContain(`FAILED ${victim}: the bytes read from the primary volume do not match the catalog: SHA-256 expected`);
      expect(human.stdout).toContain('Failed 1\nRESTORE INCOMPLETE: 1 of 5 file(s) not restored\n');
      expect(human.stderr).toContain(`${victim}: the damaged primary copy was reported to the server, which heals it`);
      await waitHealed(2);

      await damage(onDisk);
      const auto = freshDir();
      const healed = await cli(['restore', PROJECT, '--to', auto, '--json']);
      expect(healed.code).toBe(0);
      const good = json<RestoreDoc>(healed);
      expect(good).toMatchObject({ restored: 5, failed: 0, sources: { primary: 4, mirror: 1 } });
      expect(good.warnings).toEqual([
        `${victim}: the copy on the primary volume does not match the catalog (SHA-256 ${damagedSha}, expected ${sha(ALL[victim])}); ` +
          'restored from the mirror volume instead',
      ]);
      await expectRestored(auto, Object.keys(ALL));
      await waitHealed(3);
    } finally {
      await writeFile(onDisk, original);
    }
  });
});

describe('studiovault drill', () => {
  let diskTarget: string;

  it('drill list before any drill', async () => {
    const human = await cli(['drill', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('No restore drills yet. Run one now with: studiovault drill run --wait\n');
    expect(json(await cli(['drill', 'list', '--json']))).toEqual([]);
  });

  it('after a backup to a disk target: drill run --wait --json passes with zero errors; drill list shows it', async () => {
    diskTarget = join(work, 'usb-drive');
    await mkdir(diskTarget); // a disk target is a drive already mounted: never created
    await t.http().post('/api/targets').auth(t.admin, admin).send({ kind: 'disk', name: 'USB', path: diskTarget }).expect(201);
    const backup = await cli(['backup', 'run', '--wait', '--json']);
    expect(backup.code).toBe(0);
    expect(json<{ state: string; files: number }[]>(backup)).toEqual([expect.objectContaining({ state: 'completed', files: 5 })]);

    const run = await cli(['drill', 'run', '--wait', '--json']);
    expect(run.code).toBe(0);
    const drill = json<DrillDoc>(run);
    expect(drill).toMatchObject({
      trigger: 'manual',
      state: 'passed',
      targetName: 'USB',
      files: 5,
      bytes: ALL_BYTES,
      errorCount: 0,
      errors: [],
    });
    expect(drill.verdict).toMatch(/^Zero errors: 5 file\(s\), .* restored from "USB" and verified/);
    for (const o of drill.opened ?? []) expect(o).not.toHaveProperty('thumbnail');

    const list = json<DrillDoc[]>(await cli(['drill', 'list', '--json']));
    expect(list).toEqual([expect.objectContaining({ id: drill.id, state: 'passed', files: 5, bytes: ALL_BYTES, errorCount: 0 })]);

    const human = await cli(['drill', 'list']);
    expect(human.code).toBe(0);
    const [header, row, , total] = human.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['WHEN', 'STATE', 'TARGET', 'FILES', 'BYTES', 'ERRORS', 'VERDICT']);
    expect(row.split(/\s{2,}/).slice(0, 6)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      'passed',
      'USB',
      '5',
      '4.30 MB',
      '0',
    ]);
    expect(row).toMatch(/Zero errors: 5 file\(s\)/);
    expect(total).toBe('1 drill(s): 1 passed, 0 failed');
  });

  it('restore --from offsite reads every file from the disk target', async () => {
    const to = freshDir();
    const run = await cli(['restore', PROJECT, '--from', 'offsite', '--to', to, '--json']);
    expect(run.code).toBe(0);
    expect(json<RestoreDoc>(run)).toMatchObject({ files: 5, restored: 5, failed: 0, sources: { offsite: 5 } });
    await expectRestored(to, Object.keys(ALL));
  });

  it('drill run (human) prints the verdict; without --wait it only starts the drill', async () => {
    const human = await cli(['drill', 'run', '--wait']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/^Restore drill [0-9a-f-]{36} (queued|running)\n$/);
    expect(human.stdout).toMatch(/^Restore drill [0-9a-f-]{36}: passed in \d+:\d\d, from "USB"\n/);
    expect(human.stdout).toContain('  0 errors\n');
    expect(lastLine(human.stdout)).toMatch(/^DRILL PASSED: Zero errors: 5 file\(s\)/);

    const started = await cli(['drill', 'run', '--json']);
    expect(started.code).toBe(0);
    const { id, state } = json<DrillDoc>(started);
    expect(state).toMatch(/^(queued|running|passed)$/); // a drill of five small files may be over already
    await waitFor(
      async () => (await t.http().get(`/api/drills/${id}`).auth(t.admin, admin)).body.state as string,
      (s) => s === 'passed' || s === 'failed',
      60_000,
    );
  });

  it('a damaged object on the target: drill run --wait fails (exit 1) and names the file and the check', async () => {
    const victim = 'B002/PRIVATE/M4ROOT/CLIP/C0001.BIN';
    await damage(await findCopy(join(diskTarget, 'objects'), ALL[victim]));
    const run = await cli(['drill', 'run', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Restore drill [0-9a-f-]{36}: failed in \d+:\d\d, from "USB"\n/);
    expect(run.stdout).toContain(`  errors:\n    damaged copy: ${PROJECT}/${victim}: the off-site copy on "USB" is damaged: `);
    expect(run.stdout).toContain(
      '    what to do (damaged copy): The off-site copy differs from the hash taken from the card: the file is at risk.',
    );
    expect(run.stdout).not.toContain('original cannot be opened');
    expect(lastLine(run.stdout)).toMatch(new RegExp(`^DRILL FAILED: 1 error\\(s\\): ${PROJECT}/${victim}: `));

    const [latest] = json<DrillDoc[]>(await cli(['drill', 'list', '--json']));
    expect(latest).toMatchObject({
      state: 'failed',
      files: 4,
      errorCount: 1,
      errors: [expect.objectContaining({ check: 'hash', kind: 'damaged_copy' })],
      findings: [],
    });
  });
});

// Last: a project of its own (the drills above restore the latest project).
describe('file names', () => {
  it('restores NFD names (as macOS writes them) byte for byte, not in their NFC form', async () => {
    await t.http().post('/api/projects').auth(t.admin, admin).send({ name: 'Names', slug: 'names', type: 'wedding' }).expect(201);
    const files: Record<string, Buffer> = {
      'DCIM/100CANON/Cafe\u0301.BIN': randomBytes(3000),
      'PRIVATE/Re\u0301sume\u0301/CLIP.BIN': randomBytes(4000),
    };
    const card = join(work, 'cards', 'N001');
    for (const [rel, data] of Object.entries(files)) {
      await mkdir(dirname(join(card, rel)), { recursive: true });
      await writeFile(join(card, rel), data);
    }
    const ingest = await cli(['ingest', card, '--project', 'names']);
    expect({ code: ingest.code, stderr: ingest.code ? ingest.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const to = freshDir();
    const run = await cli(['restore', 'names', '--to', to, '--json']);
    expect(run.code).toBe(0);
    expect(json<RestoreDoc>(run)).toMatchObject({ restored: 2, verified: 2, failed: 0, errors: [] });
    const bytesOf = async (dir: string) => (await readdir(dir, { encoding: 'buffer' })).map((n) => n.toString('hex'));
    expect(await bytesOf(join(to, 'N001/DCIM/100CANON'))).toEqual([Buffer.from('Cafe\u0301.BIN').toString('hex')]);
    expect(await bytesOf(join(to, 'N001/PRIVATE'))).toEqual([Buffer.from('Re\u0301sume\u0301').toString('hex')]);
    for (const [rel, data] of Object.entries(files)) expect((await readFile(join(to, 'N001', rel))).equals(data)).toBe(true);
  });
});
