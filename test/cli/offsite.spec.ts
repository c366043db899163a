/**
 * `studiovault targets …` and `studiovault backup …`: the bundled CLI as a child process against
 * the real API with its in-process worker and a real Postgres database. The off-site target is a
 * disk folder under the temp dir (the S3 driver's own tests run against Ceph RGW); an S3 target
 * with an endpoint where nothing listens shows how a failed connection test reads.
 *
 *   cd /work/main && npx jest test/cli/offsite.spec.ts
 */
import { spawn } from 'node:child_process';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ADMIN, type IngestApp, startIngestApp, waitFor } from '../ingest/ingest-helpers';
import { type Rgw, startRgw } from '../offsite/rgw';
import { buildCli, json, lastLine, type Run, startCli } from './cli-helpers';

const PROJECT = 'offsite-cli';
const CHECK_NAMES = [
  'reachable',
  'credentials valid',
  'bucket exists',
  'versioning on',
  'Object Lock on',
  'can put object',
  'can set retention',
];

interface Check {
  id: string;
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  ok: boolean;
  detail: string;
}
interface TargetJson {
  id: string;
  name: string;
  kind: string;
  path?: string;
  rotatesOffsite: boolean;
  immutable: boolean;
  enabled: boolean;
  lockMode: string;
  health: string;
  lastRun: RunJson | null;
  secretAccessKey?: unknown;
}
interface RunJson {
  id: string;
  targetId: string;
  targetName: string;
  trigger: string;
  state: string;
  files: number;
  filesSkipped: number;
  bytes: number;
  durationSeconds: number | null;
  throughputMBps: number | null;
  errorCount: number;
  errors: { path?: string; message: string }[];
}
interface StatusJson {
  targets: {
    id: string;
    name: string;
    kind: string;
    enabled: boolean;
    health: string;
    lastRun: RunJson | null;
    activeRun: RunJson | null;
  }[];
  pending: { files: number; bytes: number };
  offsite: { files: number; bytes: number };
  immutable: { files: number; bytes: number };
}

let t: IngestApp;
let cliPath: string;
let work: string;
let primary: string;
let mirror: string;
let diskTarget: string;
let configFile: string;

const cli = (args: string[], input = ''): Promise<Run> =>
  startCli(cliPath, args, { HOME: work, STUDIOVAULT_CONFIG: configFile, STUDIOVAULT_STATE_DIR: join(work, 'state') }, input).done;

/** The card of the backup test: three files, one of them empty. */
const CARD: Record<string, Buffer> = {
  'DCIM/100CANON/IMG_0001.CR3': randomBytes(1_200_000),
  'DCIM/100CANON/IMG_0001.JPG': randomBytes(150_000),
  'DCIM/100CANON/NOTES.XMP': Buffer.from('<x:xmpmeta/>\n'),
};
const CARD_BYTES = Object.values(CARD).reduce((a, b) => a + b.length, 0);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-cli-offsite-'));
  cliPath = buildCli(join(work, 'bin'));
  primary = await mkdtemp(join(tmpdir(), 'sv-cli-offsite-primary-')); // ext4
  mirror = await mkdtemp('/dev/shm/sv-cli-offsite-mirror-'); // tmpfs: another device
  diskTarget = join(work, 'usb-drive'); // a mounted drive: the server never creates a disk target's folder
  await mkdir(diskTarget);
  configFile = join(work, 'conf', 'config.json');
  // Disk targets and server-side key files only under the work dir.
  t = await startIngestApp({
    STUDIOVAULT_PRIMARY_ROOT: primary,
    STUDIOVAULT_MIRROR_ROOT: mirror,
    STUDIOVAULT_DISK_TARGET_ROOTS: work,
    STUDIOVAULT_KEY_DIR: work,
  });
  const admin = { type: 'bearer' as const };
  await t.http().post('/api/projects').auth(t.admin, admin).send({ name: 'Offsite CLI', slug: PROJECT, type: 'wedding' }).expect(201);
  // The run under test is the one the CLI starts, not the one a verified card starts on its own.
  const settings = (await t.http().get('/api/backup/settings').auth(t.admin, admin).expect(200)).body;
  await t
    .http()
    .put('/api/backup/settings')
    .auth(t.admin, admin)
    .send({ ...settings, onIngest: false })
    .expect(200);
  const login = await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`);
  expect(login.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await t?.db?.drop();
  for (const dir of [work, primary, mirror]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** This process's environment without STUDIOVAULT_* and XDG_* (as startCli does). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STUDIOVAULT_') && !k.startsWith('XDG_')));
}

/** One line on stderr, `error: … (USAGE_ERROR)`, nothing on stdout, exit 2. */
function expectUsageError(run: Run, message: RegExp): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
  expect(run.stderr).toMatch(/^error: [^\n]+ \(USAGE_ERROR\)\n$/);
  expect(run.stderr).toMatch(message);
}

const s3Args = (name: string, ...extra: string[]) => [
  'targets',
  'add',
  's3',
  name,
  '--endpoint',
  'http://127.0.0.1:9',
  '--region',
  'us-east-1',
  '--bucket',
  'studio-vault',
  '--access-key-id',
  'SVTESTACCESSKEY0001',
  ...extra,
];

describe('studiovault targets', () => {
  let secretFile: string;
  const secret = `sv-secret-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    secretFile = join(work, 'b2-secret');
    await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  });

  it('refuses bad input on the workstation with one line and exit 2', async () => {
    expectUsageError(
      await cli(s3Args('b2', '--secret-access-key-file', secretFile).filter((a) => a !== '--bucket' && a !== 'studio-vault')),
      /required option '--bucket <bucket>' not specified/,
    );
    expectUsageError(
      await cli(s3Args('b2', '--secret-access-key-file', secretFile, '--lock-mode', 'forever')),
      /'--lock-mode <mode>' argument 'forever' is invalid\. must be governance or compliance/,
    );
    expectUsageError(
      await cli(s3Args('b2', '--secret-access-key-file', join(work, 'no-such-secret'))),
      /cannot read the secret key file .*no-such-secret: no such file/,
    );
    const empty = join(work, 'empty-secret');
    await writeFile(empty, '\n', { mode: 0o600 });
    expectUsageError(await cli(s3Args('b2', '--secret-access-key-file', empty)), /the secret key file .*empty-secret is empty/);
    expectUsageError(await cli(s3Args('b2')), /the secret access key is missing: --secret-access-key-file FILE/);
    expectUsageError(await cli(s3Args('b2', '--server-secret-file', 'relative/secret')), /must be an absolute path on the server/);
    expectUsageError(await cli(['targets', 'add', 'disk', 'usb/1', '--path', '/mnt/usb']), /"usb\/1" cannot be a target name/);
    expectUsageError(await cli(['targets', 'add', 'disk', 'usb', '--path', 'mnt/usb']), /'--path <dir>' argument 'mnt\/usb' is invalid/);

    const machine = await cli([...s3Args('b2', '--secret-access-key-file', join(work, 'no-such-secret')), '--json']);
    expect(machine.code).toBe(2);
    expect(json(machine)).toEqual({ error: { code: 'USAGE_ERROR', message: expect.stringContaining('no such file') } });
  });

  it('lists no targets before any is added', async () => {
    const human = await cli(['targets', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^No off-site targets yet\. Add one with: studiovault targets add s3 NAME/);
    expect(json<TargetJson[]>(await cli(['targets', 'list', '--json']))).toEqual([]);
  });

  it('an S3 target whose endpoint does not answer: refused with each check by name, exit 1, and the secret appears nowhere', async () => {
    await chmod(secretFile, 0o644);
    const human = await cli(s3Args('B2 Frankfurt', '--secret-access-key-file', secretFile));
    await chmod(secretFile, 0o600);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    const lines = human.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^warning: the secret key file .*b2-secret can be read by other users of this computer \(mode 644\)/);
    expect(lines[1]).toMatch(/^error: Target "B2 Frankfurt" failed its connection test: reachable: .+ \(TARGET_PREFLIGHT_FAILED\)$/);
    // Every check, in order: "reachable" failed, the others were not checked.
    expect(lines.slice(2).map((l) => l.replace(/:.*$/, ''))).toEqual(CHECK_NAMES.map((n, i) => `  ${i === 0 ? '✗' : '–'} ${n}`));
    expect(lines[3]).toContain('– credentials valid: not checked: "reachable" did not pass');

    const machine = await cli([...s3Args('B2 Frankfurt', '--secret-access-key-file', secretFile), '--json']);
    expect(machine.code).toBe(1);
    const doc = json<{ error: { code: string; message: string; details: string[] } }>(machine);
    expect(doc.error.code).toBe('TARGET_PREFLIGHT_FAILED');
    expect(doc.error.details.map((d) => d.replace(/:.*$/, ''))).toEqual(CHECK_NAMES);
    expect(machine.stderr).toBe('');

    for (const run of [human, machine]) expect(run.stdout + run.stderr).not.toContain(secret);
    // Nothing was saved.
    expect(json<TargetJson[]>(await cli(['targets', 'list', '--json']))).toEqual([]);
  });

  it('adds a disk target: prints each check and the target; lists it (table and --json)', async () => {
    const add = await cli(['targets', 'add', 'disk', 'USB rotation', '--path', diskTarget, '--rotates-offsite']);
    expect(add.code).toBe(0);
    expect(add.stderr).toBe('');
    const checks = add.stdout.split('\n').slice(0, CHECK_NAMES.length);
    expect(checks.map((l) => l.replace(/:.*$/, ''))).toEqual([
      '✓ reachable',
      '✓ credentials valid',
      '✓ bucket exists',
      '✓ versioning on',
      '– Object Lock on', // not needed: the target is not immutable
      '✓ can put object',
      '– can set retention',
    ]);
    expect(checks[0]).toBe(`✓ reachable: folder ${diskTarget} is there`);
    expect(checks[4]).toMatch(/^– Object Lock on: no: .*\(not needed: uploads to this target are not locked\)$/);
    expect(add.stdout).toContain('Added off-site target "USB rotation" (disk).');
    expect(add.stdout).toMatch(new RegExp(`Path:\\s+${diskTarget}\\n`));
    expect(add.stdout).toMatch(/Rotates off-site:\s+yes/);
    expect(add.stdout).toMatch(/Immutable:\s+no: uploads are not locked/);
    expect(add.stdout).toMatch(/Last test:\s+\d{4}-\d\d-\d\d \d\d:\d\d, passed every check it needs/);
    expect(await readdir(diskTarget)).toContain('studiovault-target.json');

    const again = await cli(['targets', 'add', 'disk', 'usb ROTATION', '--path', join(work, 'other'), '--json']);
    expect(again.code).toBe(1);
    expect(json(again)).toMatchObject({ error: { code: 'TARGET_NAME_TAKEN', message: expect.stringContaining('exists already') } });

    const human = await cli(['targets', 'list']);
    expect(human.code).toBe(0);
    const [header, row, , total] = human.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'KIND', 'WHERE', 'LOCK', 'IMMUTABLE', 'HEALTH', 'LAST RUN']);
    expect(row.split(/\s{2,}/).slice(0, 5)).toEqual(['USB rotation', 'disk', `${diskTarget} (rotates off-site)`, '-', 'no']);
    expect(row).toMatch(/never$/);
    expect(total).toBe('1 target(s), 1 enabled');

    const [target] = json<TargetJson[]>(await cli(['targets', 'list', '--json']));
    expect(target).toMatchObject({
      name: 'USB rotation',
      kind: 'disk',
      path: diskTarget,
      rotatesOffsite: true,
      immutable: false,
      enabled: true,
      lastRun: null,
    });
  });

  it('tests a target by name (exit 0: every check it needs passed); an unknown name is TARGET_NOT_FOUND', async () => {
    const human = await cli(['targets', 'test', 'usb rotation']);
    expect(human.code).toBe(0);
    expect(
      human.stdout
        .split('\n')
        .slice(0, CHECK_NAMES.length)
        .map((l) => l.replace(/^. /, '').replace(/:.*$/, '')),
    ).toEqual(CHECK_NAMES);
    expect(lastLine(human.stdout)).toBe('Target "USB rotation" passes every check it needs.');

    const machine = await cli(['targets', 'test', 'USB rotation', '--json']);
    expect(machine.code).toBe(0);
    const doc = json<{ target: { name: string }; usable: boolean; checks: Check[] }>(machine);
    expect(doc.target.name).toBe('USB rotation');
    expect(doc.usable).toBe(true);
    expect(doc.checks.map((c) => [c.id, c.status])).toEqual([
      ['reachable', 'ok'],
      ['credentials', 'ok'],
      ['bucket', 'ok'],
      ['versioning', 'ok'],
      ['objectLock', 'failed'],
      ['put', 'ok'],
      ['retention', 'skipped'],
    ]);

    const unknown = await cli(['targets', 'test', 'Glacier']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: there is no off-site target named "Glacier" (targets: "USB rotation") (TARGET_NOT_FOUND)\n');
  });
});

describe('studiovault backup', () => {
  it('backup run --wait --json uploads every file of an ingested card to the disk target; backup status counts them off-site', async () => {
    const card = join(work, 'cards', 'A001');
    for (const [rel, data] of Object.entries(CARD)) {
      await mkdir(dirname(join(card, rel)), { recursive: true });
      await writeFile(join(card, rel), data);
    }
    const ingest = await cli(['ingest', card, '--project', PROJECT]);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toContain('Verified on two devices: 3 of 3 file(s)');

    const before = json<StatusJson>(await cli(['backup', 'status', '--json']));
    expect(before.pending).toEqual({ files: 3, bytes: CARD_BYTES });
    expect(before.offsite).toEqual({ files: 0, bytes: 0 });

    const run = await cli(['backup', 'run', '--wait', '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const runs = json<RunJson[]>(run);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      targetName: 'USB rotation',
      trigger: 'manual',
      state: 'completed',
      files: 3,
      filesSkipped: 0,
      bytes: CARD_BYTES,
      errorCount: 0,
      errors: [],
    });
    expect(runs[0].durationSeconds).toEqual(expect.any(Number));

    // The bytes are on the target, keyed by their SHA-256.
    for (const data of Object.values(CARD)) {
      const sha = createHash('sha256').update(data).digest('hex');
      const dir = join(diskTarget, 'objects', 'content', 'sha256', sha.slice(0, 2), sha.slice(2, 4), `${sha}.versions`);
      const versions = (await readdir(dir)).filter((n) => n.endsWith('.data'));
      expect(versions).toHaveLength(1);
      expect((await readFile(join(dir, versions[0]))).equals(data)).toBe(true);
    }

    const status = json<StatusJson>(await cli(['backup', 'status', '--json']));
    expect(status.pending).toEqual({ files: 0, bytes: 0 });
    expect(status.offsite).toEqual({ files: 3, bytes: CARD_BYTES });
    expect(status.immutable).toEqual({ files: 0, bytes: 0 });
    expect(status.targets).toEqual([
      expect.objectContaining({
        name: 'USB rotation',
        kind: 'disk',
        enabled: true,
        activeRun: null,
        lastRun: expect.objectContaining({ id: runs[0].id }),
      }),
    ]);

    const human = await cli(['backup', 'status']);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['TARGET', 'KIND', 'IMMUTABLE', 'HEALTH', 'LAST RUN', 'ACTIVE RUN']);
    expect(lines[1]).toMatch(/^USB rotation\s+disk\s+no\s+\S+\s+completed \d{4}-\d\d-\d\d \d\d:\d\d\s+-$/);
    expect(human.stdout).toMatch(/Waiting:\s+0 file\(s\), 0 B \(verified on the NAS, not yet off-site\)/);
    expect(human.stdout).toContain(`Off-site:   3 file(s), ${(CARD_BYTES / 1e6).toFixed(2)} MB (lock not proven)`);
    expect(human.stdout).toMatch(/Immutable:\s+0 file\(s\), 0 B/);

    const list = await cli(['targets', 'list']);
    expect(list.stdout.split('\n')[1]).toMatch(/completed \d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('backup run --wait (human): nothing left to upload, a summary per run and exit 0; a run without --wait only starts', async () => {
    const human = await cli(['backup', 'run', '--target', 'usb rotation', '--wait']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/^Backup to "USB rotation": run [0-9a-f-]{36} (queued|running)\n$/);
    expect(human.stdout).toMatch(
      /^Backup to "USB rotation": completed in \d+:\d\d\n {2}uploaded 0 file\(s\), 0 already there, 0 B, [\d.]+ MB\/s, 0 error\(s\)\n/,
    );
    expect(lastLine(human.stdout)).toBe('Backup complete: 1 run(s) completed without errors.');

    const started = await cli(['backup', 'run', '--json']);
    expect(started.code).toBe(0);
    const runs = json<RunJson[]>(started);
    expect(runs).toEqual([
      expect.objectContaining({ targetName: 'USB rotation', trigger: 'manual', state: expect.stringMatching(/queued|running/) }),
    ]);
    await waitFor(
      async () => (await t.http().get(`/api/backup/runs/${runs[0].id}`).auth(t.admin, { type: 'bearer' })).body.state as string,
      (s) => s === 'completed',
    );
  });

  it('on a terminal, backup run --wait draws its progress on stderr and clears it before the summary', async () => {
    // script(1) gives the CLI a terminal; stdout and stderr both arrive through it.
    const command = [process.execPath, cliPath, 'backup', 'run', '--wait'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = await new Promise<Run>((done, fail) => {
      const env: NodeJS.ProcessEnv = { ...cleanEnv(), HOME: work, STUDIOVAULT_CONFIG: configFile, NO_COLOR: '1', COLUMNS: '200' };
      const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('error', fail);
      child.on('close', (code, signal) => done({ code, signal, stdout, stderr: '' }));
    });
    expect(run.code).toBe(0);
    const text = run.stdout.replace(/\r\n/g, '\n');
    // The line, then the cursor moved up to it and the screen cleared from there.
    expect(text).toMatch(/USB rotation: (queued|running) {2}0 file\(s\) uploaded, 0 already there, 0 B, 0\.0 MB\/s {2}0:0\d\n/);
    expect(text).toContain('\u001b[1A\r\u001b[J');
    expect(text).toContain('Backup complete: 1 run(s) completed without errors.');
  });

  it('a disabled target is skipped: backup run finds nothing to do (exit 1); remove is refused while it holds copies', async () => {
    const disable = await cli(['targets', 'disable', 'USB rotation']);
    expect(disable.code).toBe(0);
    expect(disable.stdout).toContain('Disabled off-site target "USB rotation"');
    const run = await cli(['backup', 'run', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: there is no enabled off-site target to back up to: every target is disabled ("USB rotation"); ' +
        'enable one with studiovault targets enable NAME (NO_TARGETS)\n',
    );
    const one = await cli(['backup', 'run', '--target', 'USB rotation', '--json']);
    expect(one.code).toBe(1);
    expect(json(one)).toMatchObject({ error: { code: 'CONFLICT', message: expect.stringContaining('is disabled') } });
    expect(json<TargetJson[]>(await cli(['targets', 'list', '--json']))[0].enabled).toBe(false);

    const enable = await cli(['targets', 'enable', 'USB rotation']);
    expect(enable.code).toBe(0);
    expect(enable.stdout).toContain('✓ reachable');
    expect(lastLine(enable.stdout)).toBe('Enabled off-site target "USB rotation": backups upload to it again.');

    const remove = await cli(['targets', 'remove', 'USB rotation']);
    expect(remove.code).toBe(1);
    expect(remove.stderr).toMatch(/holds \d+ file cop(y|ies): disable it instead of deleting it \(CONFLICT\)\n$/);
  });
});

describe('studiovault targets and backup against Ceph RGW (S3 with Object Lock)', () => {
  let rgw: Rgw;
  let secretFile: string;
  const s3 = (name: string, bucket: string, ...extra: string[]) => [
    'targets',
    'add',
    's3',
    name,
    '--endpoint',
    rgw.endpoint,
    '--region',
    rgw.region,
    '--bucket',
    bucket,
    '--access-key-id',
    rgw.accessKeyId,
    ...extra,
  ];
  const noSecret = (...runs: Run[]) => {
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(rgw.secretAccessKey);
  };

  beforeAll(async () => {
    rgw = startRgw();
    secretFile = join(work, 'rgw-secret');
    await writeFile(secretFile, `${rgw.secretAccessKey}\n`, { mode: 0o600 });
  }, 200_000);

  it('refuses an immutable target on a bucket without Object Lock, saying why', async () => {
    // Versioning on (else "versioning on" is the first check to fail), Object Lock off.
    const bucket = await rgw.bucket({ objectLock: false });
    await rgw.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const run = await cli(s3('RGW plain', bucket, '--secret-access-key-file', secretFile));
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^error: Target "RGW plain" failed its connection test: Object Lock on: .*An immutable target needs a bucket with Object Lock/,
    );
    expect(lines.slice(1).map((l) => l.replace(/:.*$/, ''))).toEqual([
      '  ✓ reachable',
      '  ✓ credentials valid',
      '  ✓ bucket exists',
      '  ✓ versioning on',
      '  ✗ Object Lock on',
      '  ✓ can put object',
      '  – can set retention',
    ]);
    noSecret(run);
  });

  it('adds an S3 target whose every check passes (the lock read back), tests it, and backs up to it: the files become immutable', async () => {
    const bucket = await rgw.bucket();
    const add = await cli(s3('RGW', bucket, '--prefix', 'nas1', '--secret-access-key-file', secretFile, '--lock-mode', 'Governance'));
    expect(add.code).toBe(0);
    expect(add.stdout.split('\n').slice(0, CHECK_NAMES.length)).toEqual(
      CHECK_NAMES.map((n) => expect.stringMatching(new RegExp(`^✓ ${n}: `))),
    );
    expect(add.stdout).toMatch(/^✓ can set retention: GOVERNANCE until \S+ read back on \.studiovault\/preflight$/m);
    expect(add.stdout).toContain('Added off-site target "RGW" (s3).');
    expect(add.stdout).toMatch(/Secret key:\s+stored encrypted on the server/);
    expect(add.stdout).toMatch(/Immutable:\s+yes: GOVERNANCE lock on every upload, read back/);

    const list = await cli(['targets', 'list']);
    const row = list.stdout.split('\n').find((l) => l.startsWith('RGW '))!;
    expect(row.split(/\s{2,}/).slice(0, 6)).toEqual([
      'RGW',
      's3',
      `${bucket}/nas1/ at ${new URL(rgw.endpoint).host}`,
      'governance',
      'yes',
      'ok',
    ]);

    const test = await cli(['targets', 'test', 'RGW', '--json']);
    expect(test.code).toBe(0);
    expect(json<{ ok: boolean; usable: boolean }>(test)).toMatchObject({ ok: true, usable: true });

    const run = await cli(['backup', 'run', '--target', 'RGW', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(json<RunJson[]>(run)).toEqual([
      expect.objectContaining({ targetName: 'RGW', state: 'completed', files: 3, bytes: CARD_BYTES, errorCount: 0 }),
    ]);
    const status = json<StatusJson>(await cli(['backup', 'status', '--json']));
    expect(status.immutable).toEqual({ files: 3, bytes: CARD_BYTES });
    expect(status.offsite).toEqual({ files: 0, bytes: 0 });
    noSecret(add, list, test, run);
    const all = await cli(['targets', 'list', '--json']);
    noSecret(all);
  });

  it('--server-secret-file: the server reads the key from its own file; a target without copies can be removed', async () => {
    const bucket = await rgw.bucket();
    const add = await cli([...s3('RGW file', bucket, '--server-secret-file', secretFile), '--json']);
    expect(add.code).toBe(0);
    const doc = json<{ target: TargetJson & { secretSource: string; secretAccessKeyFile: string }; test: { ok: boolean } }>(add);
    expect(doc.target).toMatchObject({ name: 'RGW file', secretSource: 'file', secretAccessKeyFile: secretFile, immutable: true });
    expect(doc.test.ok).toBe(true);
    noSecret(add);

    const remove = await cli(['targets', 'remove', 'rgw FILE']);
    expect({ code: remove.code, stdout: remove.stdout, stderr: remove.stderr }).toEqual({
      code: 0,
      stdout: 'Removed off-site target "RGW file".\n',
      stderr: '',
    });
    expect(json<TargetJson[]>(await cli(['targets', 'list', '--json'])).map((x) => x.name)).toEqual(['RGW', 'USB rotation']);
  });
});
