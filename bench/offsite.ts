/**
 * Off-site benchmark (not a test). The synthetic card of the ingest benchmark is ingested through
 * the CLI into a running server, then backed up by StudioVault to Ceph RGW under Object Lock (upload,
 * lock, lock read back), and in the same run copied from the same folder to the same RGW by
 * Debian's rclone into a bucket whose default retention locks it too. Reports MiB/s for both, the
 * ratio StudioVault/rclone (throughput: ≥ 1.0 means StudioVault is faster), peak memory (VmHWM)
 * of the server during the backup and of rclone, and checks with the SDK that every StudioVault
 * object version in the bucket has a retention in force.
 *
 *   npm run build && npx swc bench -d dist && node dist/bench/offsite.js [--scale=0.5] [--keep]
 *
 * Needs root (drop_caches; Ceph from Debian is installed by scripts/rgw/start.sh), Postgres on
 * 127.0.0.1:5432, Debian's rclone.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  type ObjectVersion,
} from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { MiB, makeCard } from './card';
import { SERVER_NODE_ARGS, SERVER_RUNTIME_ENV, cpuSeconds, dropCaches, freePort, peakMb, resetPeak, rssMb, run, sh } from './proc';

const REPO = join(__dirname, '..', '..');
const NODE = join(REPO, 'node_modules', '.bin', 'node');
const CLI = join(REPO, 'apps', 'cli', 'dist', 'studiovault.cjs');
const SERVER = join(REPO, 'dist', 'apps', 'api', 'src', 'main.js');
const GiB = 1024 * MiB;

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const scale = Number(args.get('scale') ?? 0.5);
const keep = args.has('keep');
const BENCH = args.get('dir') ?? '/work/bench-offsite';
/** Its own RGW (not the tests' one on 7480): the bench stops it at the end unless --keep. */
const RGW_DIR = args.get('rgw-dir') ?? '/tmp/studiovault-rgw-bench';
const RGW_PORT = args.get('rgw-port') ?? '7580';
const DB = `sv_bench_offsite_${process.pid}`;
const ADMIN_PG = process.env.SV_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** rclone's settings: the same parallelism as StudioVault's uploader would get on a 1-10 Gbit/s uplink. */
const RCLONE_FLAGS = ['--transfers', '4', '--s3-upload-concurrency', '4', '--s3-chunk-size', '16M'];

/** CPU seconds of the RGW daemons (radosgw and the memstore OSD), from their pid files. */
function rgwCpuSeconds(): number {
  let total = 0;
  for (const name of ['client.rgw', 'osd.0']) {
    try {
      total += cpuSeconds(Number(readFileSync(join(RGW_DIR, 'run', `${name}.pid`), 'utf8').trim()));
    } catch {
      return NaN;
    }
  }
  return total;
}

interface Rgw {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** scripts/rgw/start.sh with this bench's folder, port and memstore size; returns its env. */
function startRgw(memGb: number): Rgw {
  const out = execFileSync('bash', [join(REPO, 'scripts', 'rgw', 'start.sh')], {
    env: { ...process.env, RGW_DIR, RGW_PORT, RGW_MEMSTORE_GB: String(memGb) },
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  }).toString();
  const vars = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    endpoint: vars.RGW_ENDPOINT,
    region: vars.RGW_REGION,
    accessKeyId: vars.RGW_ACCESS_KEY_ID,
    secretAccessKey: vars.RGW_SECRET_ACCESS_KEY,
  };
}

/** Every object version under a prefix (delete markers left out). */
async function listVersions(s3: S3Client, bucket: string, prefix = ''): Promise<ObjectVersion[]> {
  const all: ObjectVersion[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }));
    all.push(...(page.Versions ?? []));
    if (!page.IsTruncated) return all;
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
}

/** GetObjectRetention on every version (8 at a time): how many have a retain-until date in the future. */
async function countLocked(
  s3: S3Client,
  bucket: string,
  versions: ObjectVersion[],
): Promise<{ versions: number; locked: number; modes: Record<string, number>; earliest?: string; notLocked: string[] }> {
  const now = Date.now();
  const modes: Record<string, number> = {};
  const notLocked: string[] = [];
  let locked = 0;
  let earliest: Date | undefined;
  let next = 0;
  const worker = async () => {
    while (next < versions.length) {
      const v = versions[next++];
      let until: Date | undefined;
      let mode: string | undefined;
      try {
        const r = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
        until = r.Retention?.RetainUntilDate;
        mode = r.Retention?.Mode;
      } catch (err) {
        // NoSuchObjectLockConfiguration: the version has no retention
        mode = `none (${(err as Error).name})`;
      }
      if (until && until.getTime() > now) {
        locked++;
        modes[mode!] = (modes[mode!] ?? 0) + 1;
        if (!earliest || until < earliest) earliest = until;
      } else notLocked.push(`${v.Key} (${mode ?? 'no mode'}${until ? ` until ${until.toISOString()}` : ''})`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { versions: versions.length, locked, modes, earliest: earliest?.toISOString(), notLocked };
}

/** The card's folder on a volume: <root>/<year>/<project>/<label>. */
function findCardFolder(root: string, project: string, label: string): string {
  for (const year of readdirSync(root)) {
    const dir = join(root, year, project, label);
    if (existsSync(dir) && statSync(dir).isDirectory()) return dir;
  }
  throw new Error(`card folder ${project}/${label} not found under ${root}`);
}

interface BackupRun {
  id: string;
  targetId: string;
  state: 'queued' | 'running' | 'paused' | 'completed' | 'failed';
  files: number;
  filesSkipped: number;
  bytes: number;
  durationSeconds: number | null;
  throughputMBps: number | null;
  errorCount: number;
  errors: { path?: string; key?: string; message: string }[];
  message?: string;
}

async function main(): Promise<void> {
  for (const f of [CLI, SERVER]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  let rcloneVersion: string;
  try {
    rcloneVersion = sh('rclone', ['version'], { quiet: true }).split('\n')[0];
  } catch {
    throw new Error('rclone is missing: apt-get install rclone (Debian 12 ships 1.60)');
  }
  mkdirSync(BENCH, { recursive: true });
  const card = join(BENCH, 'card');
  console.log(`generating the synthetic card in ${card} (scale ${scale})…`);
  const { bytes, files } = makeCard(card, scale);
  const results: Record<string, unknown> = { cardBytes: bytes, files, rclone: { version: rcloneVersion, flags: RCLONE_FLAGS.join(' ') } };

  let server: ChildProcess | undefined;
  let serverExited: Promise<unknown> = Promise.resolve();
  let s3: S3Client | undefined;
  let dbCreated = false;
  let rgwStarted = false;
  try {
    // Objects live in the OSD's RAM: room for both copies (StudioVault's and rclone's) plus slack.
    const memGb = Number(process.env.RGW_MEMSTORE_GB ?? Math.max(8, Math.ceil((bytes * 2 * 1.3) / GiB) + 2));
    console.log(`starting Ceph RGW (${RGW_DIR}, port ${RGW_PORT}, memstore ${memGb} GB)…`);
    rgwStarted = true;
    const rgw = startRgw(memGb);
    const client = new S3Client({
      region: rgw.region,
      endpoint: rgw.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    s3 = client;
    const runId = Date.now().toString(36);
    const svBucket = `sv-bench-${runId}`;
    const rcloneBucket = `rclone-bench-${runId}`;
    await client.send(new CreateBucketCommand({ Bucket: svBucket, ObjectLockEnabledForBucket: true }));
    await client.send(new CreateBucketCommand({ Bucket: rcloneBucket, ObjectLockEnabledForBucket: true }));
    // rclone 1.60 has no Object Lock flags: the bucket's default retention locks what it writes.
    await client.send(
      new PutObjectLockConfigurationCommand({
        Bucket: rcloneBucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );

    const admin = new Client({ connectionString: ADMIN_PG });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB}`);
    dbCreated = true;
    await admin.end();
    const primaryRoot = join(BENCH, 'primary');
    const mirrorRoot = join(BENCH, 'mirror');
    rmSync(primaryRoot, { recursive: true, force: true });
    rmSync(mirrorRoot, { recursive: true, force: true });
    rmSync(join(BENCH, 'data'), { recursive: true, force: true });
    rmSync(join(BENCH, 'state'), { recursive: true, force: true });
    rmSync(join(BENCH, 'cli.json'), { force: true });
    mkdirSync(primaryRoot, { recursive: true });
    mkdirSync(mirrorRoot, { recursive: true });

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const startStudioVault = async () => {
      server = spawn(NODE, [...SERVER_NODE_ARGS, SERVER], {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DB}`,
          STUDIOVAULT_DATA_DIR: join(BENCH, 'data'),
          STUDIOVAULT_PRIMARY_ROOT: primaryRoot,
          STUDIOVAULT_MIRROR_ROOT: mirrorRoot,
          STUDIOVAULT_ADMIN_EMAIL: 'bench@studio.test',
          STUDIOVAULT_ADMIN_PASSWORD: 'bench password 123',
          LOG_LEVEL: 'warn',
          ...SERVER_RUNTIME_ENV,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      serverExited = new Promise((r) => server!.once('exit', r));
      let up = false;
      for (let i = 0; i < 240 && !up; i++) {
        try {
          up = (await fetch(`${url}/api/health`)).ok;
        } catch {
          // starting
        }
        if (!up) await new Promise((r) => setTimeout(r, 250));
      }
      if (!up) throw new Error('the server did not answer /api/health within 60 s');
    };
    await startStudioVault();

    const cliEnv = {
      PATH: process.env.PATH,
      HOME: BENCH,
      STUDIOVAULT_CONFIG: join(BENCH, 'cli.json'),
      STUDIOVAULT_STATE_DIR: join(BENCH, 'state'),
    };
    const login = await run(
      NODE,
      [CLI, 'login', '--server', url, '--email', 'bench@studio.test', '--password-stdin'],
      cliEnv,
      'bench password 123\n',
    );
    if (login.code !== 0) throw new Error(`studiovault login failed (exit ${login.code})`);
    const token = (JSON.parse(readFileSync(join(BENCH, 'cli.json'), 'utf8')) as { token: string }).token;
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} /api${path}: HTTP ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };

    // Two plain folders on one disk: this bench measures the off-site path, not the second device.
    await api('PUT', '/volumes/same-device-override', { allow: true });
    await run(NODE, [CLI, 'projects', 'create', 'Bench', '--slug', 'bench'], cliEnv);
    console.log('ingesting the card with the CLI…');
    const ingest = await run(NODE, [CLI, 'ingest', card, '--project', 'bench', '--label', 'BENCH1', '--json'], cliEnv, undefined, {
      captureStderr: true,
    });
    if (ingest.code !== 0)
      throw new Error(`studiovault ingest exited ${ingest.code}: ${ingest.out.slice(-2000)} ${ingest.err.slice(-2000)}`);
    const cardFolder = findCardFolder(primaryRoot, 'bench', 'BENCH1');
    console.log(`ingested in ${ingest.seconds.toFixed(1)} s; card folder on the primary volume: ${cardFolder}`);

    const created = await api<{
      target: { id: string };
      test: { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    }>('POST', '/targets', {
      name: 'bench-rgw',
      kind: 's3',
      endpoint: rgw.endpoint,
      region: rgw.region,
      bucket: svBucket,
      pathStyle: true,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      lockMode: 'GOVERNANCE',
      immutable: true,
    });
    const targetId = created.target.id;
    console.log(`target created; preflight: ${created.test.checks.map((c) => `${c.name} ${c.status}`).join(', ')}`);

    // The nightly run happens hours after the ingest, in a worker that did not hold the ingest's
    // buffers: restart the server so that its peak memory is the backup's own.
    server!.kill('SIGTERM');
    await serverExited;
    await startStudioVault();

    // --- StudioVault: upload, lock, read every lock back ---
    const pid = server!.pid!;
    dropCaches();
    resetPeak(pid);
    const svRssBefore = rssMb(pid);
    const svCpu0 = cpuSeconds(pid);
    const svRgwCpu0 = rgwCpuSeconds();
    const t0 = process.hrtime.bigint();
    const started = await api<BackupRun[]>('POST', '/backup/runs', { targetId });
    const mine = started.find((r) => r.targetId === targetId);
    if (!mine) throw new Error(`POST /backup/runs started no run for the target: ${JSON.stringify(started)}`);
    let runDto = mine;
    while (runDto.state !== 'completed' && runDto.state !== 'failed' && runDto.state !== 'paused') {
      await new Promise((r) => setTimeout(r, 200));
      runDto = await api<BackupRun>('GET', `/backup/runs/${mine.id}`);
    }
    const svSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const svPeak = peakMb(pid);
    const svCpu = cpuSeconds(pid) - svCpu0;
    const svRgwCpu = rgwCpuSeconds() - svRgwCpu0;
    if (runDto.state !== 'completed' || runDto.errorCount > 0)
      throw new Error(
        `backup run ${runDto.state} with ${runDto.errorCount} errors: ${runDto.message ?? ''} ${JSON.stringify(runDto.errors.slice(0, 5))}`,
      );
    console.log(
      `StudioVault backup: ${svSeconds.toFixed(1)} s, ${(bytes / MiB / svSeconds).toFixed(0)} MiB/s (run: ${runDto.files} files, ` +
        `${runDto.filesSkipped} skipped, ${(runDto.bytes / MiB).toFixed(0)} MiB, ${runDto.durationSeconds ?? '?'} s, ${runDto.throughputMBps ?? '?'} MB/s)`,
    );

    // --- rclone copy of the same folder to the same RGW ---
    const rcloneEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: BENCH,
      RCLONE_CONFIG: join(BENCH, 'rclone.conf'), // empty: everything comes from the environment
      RCLONE_S3_PROVIDER: 'Ceph',
      RCLONE_S3_ENDPOINT: rgw.endpoint,
      RCLONE_S3_REGION: rgw.region,
      RCLONE_S3_ACCESS_KEY_ID: rgw.accessKeyId,
      RCLONE_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      // AWS_CA_BUNDLE is left out on purpose: rclone 1.60 fails with LoadCustomCABundleError while it is set
    };
    writeFileSync(join(BENCH, 'rclone.conf'), '');
    dropCaches();
    const rcloneRgwCpu0 = rgwCpuSeconds();
    const rclone = await run('rclone', ['copy', cardFolder, `:s3:${rcloneBucket}/card`, ...RCLONE_FLAGS], rcloneEnv);
    if (rclone.code !== 0) throw new Error(`rclone copy exited ${rclone.code}`);
    const rcloneRgwCpu = rgwCpuSeconds() - rcloneRgwCpu0;
    console.log(`rclone copy: ${rclone.seconds.toFixed(1)} s, ${(bytes / MiB / rclone.seconds).toFixed(0)} MiB/s`);

    // --- every StudioVault object version carries a retention in force (the probe of the preflight aside) ---
    const svVersions = await listVersions(client, svBucket);
    const probe = (v: ObjectVersion) => v.Key!.endsWith('.studiovault/preflight');
    const svLocks = await countLocked(
      client,
      svBucket,
      svVersions.filter((v) => !probe(v)),
    );
    const rcloneLocks = await countLocked(client, rcloneBucket, await listVersions(client, rcloneBucket));

    // --- Restore (issue 5): StudioVault from the off-site copy, every hash verified, vs rclone copy down ---
    const svRestoreDir = join(BENCH, 'restore-sv');
    const rcloneRestoreDir = join(BENCH, 'restore-rclone');
    rmSync(svRestoreDir, { recursive: true, force: true });
    rmSync(rcloneRestoreDir, { recursive: true, force: true });
    dropCaches();
    resetPeak(pid);
    const r0 = process.hrtime.bigint();
    const rs = await api<{ id: string }>('POST', '/restores', { project: 'bench', from: 'offsite', destination: svRestoreDir });
    let restoreDto: { state: string; restored: number; verified: number; failed: number; errors: unknown[] };
    for (;;) {
      restoreDto = await api('GET', `/restores/${rs.id}`);
      if (restoreDto.state === 'completed' || restoreDto.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const svRestoreSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
    const svRestorePeak = peakMb(pid);
    if (restoreDto.state !== 'completed' || restoreDto.failed)
      throw new Error(`restore ${restoreDto.state}: ${restoreDto.failed} failed ${JSON.stringify(restoreDto.errors.slice(0, 5))}`);
    sh('sync', []);
    const svRestoreTotal = Number(process.hrtime.bigint() - r0) / 1e9;
    console.log(
      `StudioVault restore: ${svRestoreSeconds.toFixed(1)} s (${svRestoreTotal.toFixed(1)} s with sync), ${restoreDto.verified} files verified`,
    );
    dropCaches();
    const rcloneDown = await run('rclone', ['copy', `:s3:${rcloneBucket}/card`, rcloneRestoreDir, ...RCLONE_FLAGS], rcloneEnv);
    if (rcloneDown.code !== 0) throw new Error(`rclone copy (restore) exited ${rcloneDown.code}`);
    // StudioVault fsyncs every restored file before naming it; rclone does not: its time includes a sync.
    const s0 = process.hrtime.bigint();
    sh('sync', []);
    rcloneDown.seconds += Number(process.hrtime.bigint() - s0) / 1e9;
    console.log(`rclone restore: ${rcloneDown.seconds.toFixed(1)} s (with the sync)`);
    const svRestoreMiBs = bytes / MiB / svRestoreSeconds;
    const rcloneRestoreMiBs = bytes / MiB / rcloneDown.seconds;
    results.restore = {
      studiovault: { seconds: svRestoreSeconds, mbPerS: svRestoreMiBs, verified: restoreDto.verified, serverPeakMb: svRestorePeak },
      rclone: { seconds: rcloneDown.seconds, mbPerS: rcloneRestoreMiBs, peakMb: rcloneDown.peak },
      ratio: svRestoreMiBs / rcloneRestoreMiBs,
    };
    rmSync(svRestoreDir, { recursive: true, force: true });
    rmSync(rcloneRestoreDir, { recursive: true, force: true });
    const svMiBs = bytes / MiB / svSeconds;
    const rcloneMiBs = bytes / MiB / rclone.seconds;
    const ratio = svMiBs / rcloneMiBs;
    results.studiovault = {
      seconds: svSeconds,
      mbPerS: svMiBs,
      run: {
        files: runDto.files,
        filesSkipped: runDto.filesSkipped,
        bytes: runDto.bytes,
        durationSeconds: runDto.durationSeconds,
        throughputMBps: runDto.throughputMBps,
      },
      serverPeakMb: svPeak,
      serverRssAtStartMb: svRssBefore,
      serverCpuSeconds: svCpu,
      rgwCpuSeconds: svRgwCpu,
      locks: { ...svLocks, notLocked: svLocks.notLocked.slice(0, 20), preflightProbes: svVersions.filter(probe).length },
    };
    results.rclone = {
      ...(results.rclone as object),
      seconds: rclone.seconds,
      mbPerS: rcloneMiBs,
      peakMb: rclone.peak,
      cpuSeconds: rclone.cpu,
      rgwCpuSeconds: rcloneRgwCpu,
      locks: { ...rcloneLocks, notLocked: rcloneLocks.notLocked.slice(0, 20) },
    };
    results.ratio = ratio;
    mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
    writeFileSync(join(REPO, 'bench', 'out', 'offsite.json'), JSON.stringify({ at: new Date().toISOString(), scale, ...results }, null, 2));
    if (svLocks.notLocked.length)
      console.log(`StudioVault versions without a retention in force:\n  ${svLocks.notLocked.slice(0, 20).join('\n  ')}`);

    const f = (n: number, d = 0) => n.toFixed(d);
    console.log(`
Load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (${cpus().length} CPUs).
Card: ${files} files, ${f(bytes / MiB)} MiB (scale ${scale}); RGW ${rgw.endpoint} (memstore); page cache dropped before each copy.
rclone: ${rcloneVersion}, \`rclone copy <card folder> :s3:<bucket>/card ${RCLONE_FLAGS.join(' ')}\`, bucket default retention GOVERNANCE 1 day.

|                                        | StudioVault                              | rclone                                         |
| -------------------------------------- | ---------------------------------------- | ---------------------------------------------- |
| seconds                                | ${f(svSeconds, 1)} (run's own: ${runDto.durationSeconds ?? '?'}) | ${f(rclone.seconds, 1)} |
| MiB/s (card bytes / seconds)           | ${f(svMiBs)} | ${f(rcloneMiBs)} |
| ratio StudioVault/rclone (throughput)  | ${f(ratio, 2)} (target ≥ 1.0) | |
| peak memory (VmHWM), MB                | ${f(svPeak)} (server during the run, ${f(svRssBefore)} at its start; target < 300) | ${f(rclone.peak)} |
| CPU seconds: uploader / RGW daemons    | ${f(svCpu, 1)} (server) / ${f(svRgwCpu, 1)} | ${f(rclone.cpu, 1)} / ${f(rcloneRgwCpu, 1)} |
| object versions with retention in force | ${svLocks.locked} / ${svLocks.versions} (${Object.entries(svLocks.modes)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ')}) | ${rcloneLocks.locked} / ${rcloneLocks.versions} (bucket default) |
| **restore** seconds (off-site → local folder) | ${f(svRestoreSeconds, 1)} (every file's xxh64 checked as written, fsynced) | ${f(rcloneDown.seconds, 1)} |
| restore MiB/s                          | ${f(svRestoreMiBs)} | ${f(rcloneRestoreMiBs)} |
| restore ratio StudioVault/rclone       | ${f(svRestoreMiBs / rcloneRestoreMiBs, 2)} (target ≥ 1.0) | |
| restore peak memory (VmHWM), MB        | ${f(svRestorePeak)} | ${f(rcloneDown.peak)} |
`);
  } finally {
    if (server) {
      server.kill('SIGTERM');
      await serverExited;
      server = undefined;
    }
    s3?.destroy();
    if (dbCreated) {
      const pg = new Client({ connectionString: ADMIN_PG });
      await pg.connect();
      await pg.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await pg.end();
    }
    if (!keep) {
      if (rgwStarted) sh('bash', [join(REPO, 'scripts', 'rgw', 'stop.sh'), '--purge'], { env: { ...process.env, RGW_DIR } });
      rmSync(BENCH, { recursive: true, force: true });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
