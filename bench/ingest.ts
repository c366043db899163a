/**
 * Card ingest benchmark (not a test). Ingests a synthetic card through the CLI into a running
 * server over loopback, and in the same run times the baseline with standard tools: copy every
 * file to the two destinations, fsync, drop the page cache, re-read both copies with xxhsum.
 * Reports MB/s, the ratio StudioVault/baseline, and peak memory (VmHWM) of server and CLI.
 *
 *   npm run build && npx swc bench -d dist && node dist/bench/ingest.js [--scale=1] [--big] [--keep]
 *
 * Needs root (loop-mounted second device, drop_caches), Postgres on 127.0.0.1:5432, xxhsum.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MiB, makeCard } from './card';
import { SERVER_NODE_ARGS, SERVER_RUNTIME_ENV, cpuSeconds, dropCaches, peakMb, freePort, run, sh } from './proc';

const REPO = join(__dirname, '..', '..');
const NODE = join(REPO, 'node_modules', '.bin', 'node');
const CLI = join(REPO, 'apps', 'cli', 'dist', 'studiovault.cjs');
const SERVER = join(REPO, 'dist', 'apps', 'api', 'src', 'main.js');

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const scale = Number(args.get('scale') ?? 1);
const big = args.has('big');
const BENCH = args.get('dir') ?? '/work/bench-ingest';
/** The CLI's --concurrency (default: the CLI's own). */
const concurrency = args.get('concurrency');
/** Skips the baseline (for quick iterations on StudioVault alone; the ratio is then not reported). */
const skipBaseline = args.has('no-baseline');

function mountSecondDevice(image: string, mnt: string, bytes: number): void {
  try {
    sh('umount', [mnt], { quiet: true });
  } catch {
    // not mounted
  }
  rmSync(image, { force: true });
  sh('truncate', ['-s', String(Math.ceil((bytes * 1.15 + 2 * 1024 * MiB) / MiB)) + 'M', image]);
  sh('mkfs.ext4', ['-q', '-F', image]);
  mkdirSync(mnt, { recursive: true });
  sh('mount', ['-o', 'loop', image, mnt]);
  // A real second disk has one page cache, not two: the loop device reads and writes its image
  // file with direct I/O (otherwise every byte of the mirror is cached twice and written back twice,
  // for the baseline and StudioVault alike).
  // --loop-buffered keeps the loop device's default (the setup of the first runs in bench/README.md).
  if (!args.has('loop-buffered')) sh('losetup', ['--direct-io=on', sh('findmnt', ['-no', 'SOURCE', mnt]).trim()]);
}

/** Baseline: cp to both destinations, fsync, drop caches, xxhsum both copies. */
function baseline(card: string, destA: string, destB: string): number {
  rmSync(destA, { recursive: true, force: true });
  rmSync(destB, { recursive: true, force: true });
  dropCaches();
  const t0 = process.hrtime.bigint();
  sh('cp', ['-r', card, destA]);
  sh('cp', ['-r', card, destB]);
  sh('sync', ['-f', destA]);
  sh('sync', ['-f', destB]);
  writeFileSync('/proc/sys/vm/drop_caches', '1\n');
  sh('bash', ['-c', `find "${destA}" -type f -print0 | xargs -0 xxhsum -H1 > /dev/null`]);
  sh('bash', ['-c', `find "${destB}" -type f -print0 | xargs -0 xxhsum -H1 > /dev/null`]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  for (const f of [CLI, SERVER]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  mkdirSync(BENCH, { recursive: true });
  const card = join(BENCH, 'card');
  console.log(`generating the synthetic card in ${card} (scale ${scale})…`);
  const { bytes, files } = makeCard(card, scale);
  const mnt = join(BENCH, 'second-device');
  mountSecondDevice(join(BENCH, 'second-device.img'), mnt, bytes * 2 + (big ? 10 * 1024 * MiB : 0));
  const primaryRoot = join(BENCH, 'primary');
  const mirrorRoot = join(mnt, 'mirror');
  const results: Record<string, unknown> = { cardBytes: bytes, files };

  let base = NaN;
  if (!skipBaseline) {
    base = baseline(card, join(BENCH, 'baseline-a'), join(mnt, 'baseline-b'));
    rmSync(join(BENCH, 'baseline-a'), { recursive: true, force: true });
    rmSync(join(mnt, 'baseline-b'), { recursive: true, force: true });
    results.baseline = { seconds: base, mbPerS: bytes / MiB / base };
    console.log(`baseline (cp ×2, fsync, xxhsum ×2 cold): ${base.toFixed(1)} s, ${(bytes / MiB / base).toFixed(0)} MiB/s`);
  }

  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS sv_bench_ingest WITH (FORCE)');
  await admin.query('CREATE DATABASE sv_bench_ingest');
  await admin.end();
  rmSync(primaryRoot, { recursive: true, force: true });
  rmSync(mirrorRoot, { recursive: true, force: true });
  const port = await freePort();
  // --profile: a V8 CPU profile of the server (and the CLI) in <dir>/prof, for chrome://inspect or speedscope
  const prof = args.has('profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH, 'prof')}`] : [];
  const server: ChildProcess = spawn(NODE, [...SERVER_NODE_ARGS, ...prof, SERVER], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sv_bench_ingest',
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
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const cliEnv = {
    PATH: process.env.PATH,
    HOME: BENCH,
    STUDIOVAULT_CONFIG: join(BENCH, 'cli.json'),
    STUDIOVAULT_STATE_DIR: join(BENCH, 'state'),
  };
  rmSync(join(BENCH, 'state'), { recursive: true, force: true });
  await run(NODE, [CLI, 'login', '--server', url, '--email', 'bench@studio.test', '--password-stdin'], cliEnv, 'bench password 123\n');
  await run(NODE, [CLI, 'projects', 'create', 'Bench', '--slug', 'bench'], cliEnv);
  dropCaches();
  const extra = concurrency ? ['--concurrency', concurrency] : [];
  const serverCpu0 = cpuSeconds(server.pid!);
  const ingest = await run(NODE, [...prof, CLI, 'ingest', card, '--project', 'bench', '--label', 'BENCH1', '--json', ...extra], cliEnv);
  const serverPeak = peakMb(server.pid!);
  const serverCpu = cpuSeconds(server.pid!) - serverCpu0;
  results.studiovault = {
    seconds: ingest.seconds,
    mbPerS: bytes / MiB / ingest.seconds,
    exitCode: ingest.code,
    cliPeakMb: ingest.peak,
    serverPeakMb: serverPeak,
    cliCpuSeconds: ingest.cpu,
    serverCpuSeconds: serverCpu,
  };
  results.ratio = ingest.seconds / base;
  console.log(
    `StudioVault (CLI → server → 2 volumes, verified): ${ingest.seconds.toFixed(1)} s, ${(bytes / MiB / ingest.seconds).toFixed(0)} MiB/s, exit ${ingest.code}`,
  );
  console.log(`ratio StudioVault/baseline: ${(ingest.seconds / base).toFixed(2)} (target ≤ 1.25)`);
  console.log(
    `CPU seconds: server ${serverCpu.toFixed(1)}, CLI ${ingest.cpu.toFixed(1)} (2 cores × ${ingest.seconds.toFixed(1)} s = ${(2 * ingest.seconds).toFixed(0)})`,
  );
  console.log(`peak memory: server ${serverPeak.toFixed(0)} MB, CLI ${ingest.peak.toFixed(0)} MB (target < 300 MB each)`);

  if (big) {
    const bigCard = join(BENCH, 'bigcard');
    const f = join(bigCard, 'PRIVATE/M4ROOT/CLIP/C9999.MP4');
    if (!existsSync(f) || statSync(f).size !== 10 * 1024 * MiB) {
      mkdirSync(join(f, '..'), { recursive: true });
      sh('bash', ['-c', `head -c ${10 * 1024 * MiB} /dev/urandom > "${f}"`]);
    }
    dropCaches();
    const one = await run(NODE, [CLI, 'ingest', bigCard, '--project', 'bench', '--label', 'BIG1', '--json', ...extra], cliEnv);
    const serverPeakBig = peakMb(server.pid!);
    results.bigFile = {
      seconds: one.seconds,
      mbPerS: (10 * 1024) / one.seconds,
      cliPeakMb: one.peak,
      serverPeakMb: serverPeakBig,
      exitCode: one.code,
    };
    console.log(
      `10 GiB file: ${one.seconds.toFixed(1)} s, peak memory server ${serverPeakBig.toFixed(0)} MB, CLI ${one.peak.toFixed(0)} MB`,
    );
  }
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
  writeFileSync(join(REPO, 'bench', 'out', 'ingest.json'), JSON.stringify({ at: new Date().toISOString(), scale, ...results }, null, 2));
  console.log(JSON.stringify(results, null, 2));
  if (!args.has('keep')) {
    sh('umount', [mnt]);
    rmSync(join(BENCH, 'second-device.img'), { force: true });
    rmSync(primaryRoot, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
