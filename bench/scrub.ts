/**
 * Scrub benchmark (not a test). Ingests a synthetic card (bench/card.ts; scale 0.7 ≈ 4.5 GiB) through
 * the CLI onto both volumes (the mirror on a loop-mounted second device), then in the same run:
 * 1. baseline: drop the page cache, `xxhsum -H1` every file of the card on both volumes (the two
 *    volumes at once, as the scrub reads them), timed;
 * 2. the scrub uncapped: drop the page cache, `studiovault scrub run --wait`, timed; ratio to the
 *    baseline (target ≤ 1.1) and the server's peak memory (VmHWM, reset before; target < 200 MB);
 * 3. the scrub with the I/O cap at --cap MB/s (default 50): the measured rate from the pass's own
 *    bytes and times (target within 10 %).
 *
 *   npm run build:server && npm run build:cli && npx swc bench -d dist && node dist/bench/scrub.js [--scale=0.7] [--cap=50] [--keep]
 *
 * Needs root (loop-mounted second device, drop_caches, clear_refs), Postgres on 127.0.0.1:5432, xxhsum (Debian: xxhash).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MiB, makeCard } from './card';
import { SERVER_NODE_ARGS, SERVER_RUNTIME_ENV, dropCaches, freePort, peakMb, resetPeak, rssMb, run, sh } from './proc';

const REPO = join(__dirname, '..', '..');
const NODE = join(REPO, 'node_modules', '.bin', 'node');
const CLI = join(REPO, 'apps', 'cli', 'dist', 'studiovault.cjs');
const SERVER = join(REPO, 'dist', 'apps', 'api', 'src', 'main.js');

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const scale = Number(args.get('scale') ?? 0.7);
const cap = Number(args.get('cap') ?? 50);
const BENCH = args.get('dir') ?? '/work/bench-scrub';
const EMAIL = 'bench@studio.test';
const PASSWORD = 'bench password 123';

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
  // One page cache for the second disk, as a real one has (see bench/ingest.ts).
  sh('losetup', ['--direct-io=on', sh('findmnt', ['-no', 'SOURCE', mnt]).trim()]);
}

interface Pass {
  id: string;
  state: string;
  startedAt: string;
  finishedAt: string | null;
  bytesDone: number;
  filesDone: number;
  findings: number;
}

async function main(): Promise<void> {
  for (const f of [CLI, SERVER]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build:server && npm run build:cli`);
  sh('bash', ['-c', 'command -v xxhsum >/dev/null || { echo "xxhsum is missing (apt-get install xxhash)" >&2; exit 1; }']);
  mkdirSync(BENCH, { recursive: true });
  const card = join(BENCH, 'card');
  console.log(`generating the synthetic card in ${card} (scale ${scale})…`);
  const { bytes, files } = makeCard(card, scale);
  const mnt = join(BENCH, 'second-device');
  mountSecondDevice(join(BENCH, 'second-device.img'), mnt, bytes);
  const primaryRoot = join(BENCH, 'primary');
  const mirrorRoot = join(mnt, 'mirror');
  rmSync(primaryRoot, { recursive: true, force: true });
  const results: Record<string, unknown> = { cardBytes: bytes, files, readBytes: 2 * bytes };

  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS sv_bench_scrub WITH (FORCE)');
  await admin.query('CREATE DATABASE sv_bench_scrub');
  await admin.end();
  const port = await freePort();
  const server: ChildProcess = spawn(NODE, [...SERVER_NODE_ARGS, SERVER], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sv_bench_scrub',
      STUDIOVAULT_DATA_DIR: join(BENCH, 'data'),
      STUDIOVAULT_PRIMARY_ROOT: primaryRoot,
      STUDIOVAULT_MIRROR_ROOT: mirrorRoot,
      STUDIOVAULT_ADMIN_EMAIL: EMAIL,
      STUDIOVAULT_ADMIN_PASSWORD: PASSWORD,
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
  await run(NODE, [CLI, 'login', '--server', url, '--email', EMAIL, '--password-stdin'], cliEnv, `${PASSWORD}\n`);
  await run(NODE, [CLI, 'projects', 'create', 'Bench', '--slug', 'bench'], cliEnv);
  console.log('ingesting the card onto both volumes…');
  const ingest = await run(NODE, [CLI, 'ingest', card, '--project', 'bench', '--label', 'BENCH1', '--json'], cliEnv);
  if (ingest.code !== 0) throw new Error(`ingest exited ${ingest.code}`);
  const tokenRes = await fetch(`${url}/api/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD, tokenName: `bench-${Date.now()}` }),
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const setRate = async (rateMBps: number) => {
    const r = await fetch(`${url}/api/settings/scrub`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ rateMBps }),
    });
    if (!r.ok) throw new Error(`setting the scrub rate: ${r.status} ${await r.text()}`);
  };
  const scrub = async (): Promise<{ seconds: number; passSeconds: number; pass: Pass; peak: number; rssBefore: number }> => {
    dropCaches();
    const rssBefore = rssMb(server.pid!);
    resetPeak(server.pid!);
    const r = await run(NODE, [CLI, 'scrub', 'run', '--project', 'bench', '--wait', '--json'], cliEnv);
    if (r.code !== 0) throw new Error(`scrub run exited ${r.code}: ${r.out}`);
    const pass = (JSON.parse(r.out) as { last: Pass }).last;
    // The pass's own time: from the request (the pass is made then) to its last copy read; the CLI's wall time adds its start and polling.
    const passSeconds = (Date.parse(pass.finishedAt!) - Date.parse(pass.startedAt)) / 1000;
    return { seconds: r.seconds, passSeconds, pass, peak: peakMb(server.pid!), rssBefore };
  };

  // 1. baseline: xxhsum over both volumes' copies, at once (two devices), from the device.
  // <root>/<year>/<project>/<card>: the year the card was made (the project has no shoot date)
  const year = String(new Date().getUTCFullYear());
  const dirs = [join(primaryRoot, year, 'bench', 'BENCH1'), join(mirrorRoot, year, 'bench', 'BENCH1')];
  dropCaches();
  const t0 = process.hrtime.bigint();
  sh('bash', [
    '-c',
    dirs.map((d) => `(find "${d}" -type f -not -path '*/ascmhl/*' -print0 | xargs -0 xxhsum -H1 > /dev/null) &`).join(' ') + ' wait',
  ]);
  const base = Number(process.hrtime.bigint() - t0) / 1e9;
  results.baseline = { seconds: base, mbPerS: (2 * bytes) / 1e6 / base };
  console.log(`baseline (xxhsum, both volumes, cold): ${base.toFixed(1)} s, ${((2 * bytes) / 1e6 / base).toFixed(0)} MB/s`);

  // 2. uncapped
  await setRate(0);
  const free = await scrub();
  results.uncapped = {
    passSeconds: free.passSeconds,
    cliWallSeconds: free.seconds,
    mbPerS: free.pass.bytesDone / 1e6 / free.passSeconds,
    serverRssBeforeMb: free.rssBefore,
    serverPeakMb: free.peak,
    pass: free.pass,
  };
  results.ratio = free.passSeconds / base;
  console.log(
    `scrub uncapped: ${free.passSeconds.toFixed(1)} s for ${free.pass.filesDone} copies (CLI wall ${free.seconds.toFixed(1)} s), ` +
      `${(free.pass.bytesDone / 1e6 / free.passSeconds).toFixed(0)} MB/s; ratio ${(free.passSeconds / base).toFixed(2)} (target ≤ 1.1); ` +
      `server peak ${free.peak.toFixed(0)} MB (target < 200; ${free.rssBefore.toFixed(0)} MB resident before the pass)`,
  );

  // 3. capped
  await setRate(cap);
  const capped = await scrub();
  const passSeconds = capped.passSeconds;
  const rate = capped.pass.bytesDone / 1e6 / passSeconds;
  results.capped = { capMBps: cap, passSeconds, mbPerS: rate, deviation: rate / cap - 1, serverPeakMb: capped.peak };
  console.log(
    `scrub at a ${cap} MB/s cap: ${rate.toFixed(1)} MB/s over ${passSeconds.toFixed(1)} s (${((rate / cap - 1) * 100).toFixed(1)} %, target within 10 %)`,
  );
  await setRate(0);

  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
  writeFileSync(join(REPO, 'bench', 'out', 'scrub.json'), JSON.stringify({ at: new Date().toISOString(), scale, ...results }, null, 2));
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
