/**
 * Measures `studiovault ingest` locally (not part of the test run):
 *
 *   cd /work/main && SV_BENCH_MB=300 npx jest --testMatch '**\/test/cli/ingest.bench.ts' --testTimeout 600000
 *
 * The API (with its worker) runs in the jest process, as in the tests; the CLI is a child
 * process under /usr/bin/time -v (peak RSS). Baselines on the same machine: the client's
 * read + hash alone, and the same tus upload by curl (no hashing on the client).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, type IngestApp, startIngestApp } from '../ingest/ingest-helpers';
import { buildCli, ROOT, startCli } from './cli-helpers';

const MB = Number(process.env.SV_BENCH_MB ?? 300);
const SMALL_FILES = Number(process.env.SV_BENCH_FILES ?? 200);

let t: IngestApp;
let work: string;
let primary: string;
let mirror: string;
let cli: string;

const env = () => ({ HOME: work, STUDIOVAULT_CONFIG: join(work, 'config.json'), STUDIOVAULT_STATE_DIR: join(work, 'state') });

async function writeRandom(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  for (let done = 0; done < bytes; done += 16 << 20) await fh.write(randomBytes(Math.min(16 << 20, bytes - done)));
  await fh.close();
}

/** Runs the CLI under /usr/bin/time -v, asynchronously (the API answers from this process). */
function timed(args: string[]): Promise<{ seconds: number; maxRssKb: number; stdout: string; code: number | null }> {
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, cli, ...args], { env: { ...process.env, ...env() } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) =>
    child.on('close', (code) => {
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      done({ seconds: Number(process.hrtime.bigint() - started) / 1e9, maxRssKb: rss ? Number(rss[1]) : NaN, stdout, code });
    }),
  );
}

/** curl, asynchronously. */
function curl(args: string[]): Promise<string> {
  return new Promise((done, fail) => execFile('curl', args, { encoding: 'utf8' }, (err, out) => (err ? fail(err) : done(out))));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-bench-'));
  primary = await mkdtemp(join(tmpdir(), 'sv-bench-primary-'));
  mirror = await mkdtemp('/dev/shm/sv-bench-mirror-');
  cli = buildCli(join(work, 'bin'));
  t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror });
  await t
    .http()
    .post('/api/projects')
    .auth(t.admin, { type: 'bearer' })
    .send({ name: 'Bench', slug: 'bench', shootDate: '2026-01-01' })
    .expect(201);
  await t.http().put('/api/settings/safe-to-format').auth(t.admin, { type: 'bearer' }).send({ rule: 'two_local' }).expect(200);
  const login = await startCli(cli, ['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], env(), `${ADMIN.password}\n`)
    .done;
  expect(login.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await t?.close();
  for (const d of [work, primary, mirror]) if (d) await rm(d, { recursive: true, force: true });
});

it(`ingests one ${MB} MB file and ${SMALL_FILES} small files`, async () => {
  const report: Record<string, unknown> = {};
  const bytes = MB * 1e6;
  const big = join(work, 'BIG');
  await mkdir(join(big, 'CLIPS'), { recursive: true });
  await writeRandom(join(big, 'CLIPS', 'C0001.MP4'), bytes);

  // Baseline 1: read + xxh64 + SHA-256 in a child process, as the CLI does, without uploading.
  const hashScript = `
    const { createXXHash64 } = require(${JSON.stringify(join(ROOT, 'node_modules/hash-wasm'))});
    const { createHash } = require('node:crypto'); const fs = require('node:fs');
    (async () => { const x = await createXXHash64(); x.init(); const s = createHash('sha256');
      const fd = fs.openSync(process.argv[1], 'r'); const buf = Buffer.allocUnsafe(2 << 20); let pos = 0, n;
      const t0 = process.hrtime.bigint();
      while ((n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) { x.update(buf.subarray(0, n)); s.update(buf.subarray(0, n)); pos += n; }
      console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes: pos })); })();`;
  const hashed = JSON.parse(execFileSync(process.execPath, ['-e', hashScript, join(big, 'CLIPS', 'C0001.MP4')], { encoding: 'utf8' }));
  report.clientReadAndHashMBps = Math.round(hashed.bytes / hashed.seconds / 1e6);

  // The CLI: upload and seal (no wait), then the same card again with the wait (verification time).
  const run = await timed(['ingest', big, '--project', 'bench', '--label', 'BIG', '--json', '--no-wait']);
  expect(run.code).toBe(0);
  const doc = JSON.parse(run.stdout);
  report.cliUploadMBps = Math.round(doc.transfer.bytesPerSecond / 1e6);
  report.cliWallSeconds = Number(run.seconds.toFixed(2));
  report.cliPeakRssMB = Math.round(run.maxRssKb / 1024);
  const started = Date.now();
  const waitRun = await timed(['ingest', big, '--project', 'bench', '--label', 'BIG', '--json']);
  expect(waitRun.code).toBe(0);
  report.verifyWaitSeconds = Number(((Date.now() - started) / 1000).toFixed(2));

  // Baseline 2: the same bytes with curl (tus create + one PATCH streamed from the file, no client hashing).
  const card = (
    await t.http().post('/api/projects/bench/cards').auth(t.admin, { type: 'bearer' }).send({ label: 'CURL', files: 1, bytes }).expect(201)
  ).body;
  const meta = `cardId ${Buffer.from(card.id).toString('base64')},relativePath ${Buffer.from('C0001.MP4').toString('base64')}`;
  const created = await curl([
    '-s',
    '-i',
    '-X',
    'POST',
    `${t.base}/files`,
    '-H',
    'Tus-Resumable: 1.0.0',
    '-H',
    `Upload-Length: ${bytes}`,
    '-H',
    `Upload-Metadata: ${meta}`,
    '-H',
    `Authorization: Bearer ${t.admin}`,
  ]);
  const location = /location: (\S+)/i.exec(created)![1];
  const c0 = process.hrtime.bigint();
  await curl([
    '-s',
    '-o',
    '/dev/null',
    '-X',
    'PATCH',
    `${t.base}${location}`,
    '-H',
    'Tus-Resumable: 1.0.0',
    '-H',
    'Upload-Offset: 0',
    '-H',
    'Content-Type: application/offset+octet-stream',
    '-H',
    `Authorization: Bearer ${t.admin}`,
    '-T',
    join(big, 'CLIPS', 'C0001.MP4'),
  ]);
  report.curlUploadMBps = Math.round(bytes / (Number(process.hrtime.bigint() - c0) / 1e9) / 1e6);

  // Four large files at once: memory stays flat with --concurrency.
  const four = join(work, 'FOUR');
  await mkdir(join(four, 'CLIPS'), { recursive: true });
  for (let i = 1; i <= 4; i++) await writeRandom(join(four, 'CLIPS', `C000${i}.MP4`), Math.round(bytes / 4));
  const f4 = await timed(['ingest', four, '--project', 'bench', '--label', 'FOUR', '--json', '--no-wait', '--concurrency', '4']);
  expect(f4.code).toBe(0);
  const d4 = JSON.parse(f4.stdout);
  report.fourLargeFiles_c4 = { MBps: Math.round(d4.transfer.bytesPerSecond / 1e6), peakRssMB: Math.round(f4.maxRssKb / 1024) };

  // Many small files, one and four at a time.
  const small = join(work, 'SMALL');
  await mkdir(join(small, 'DCIM'), { recursive: true });
  for (let i = 0; i < SMALL_FILES; i++)
    await writeFile(join(small, 'DCIM', `IMG_${String(i).padStart(4, '0')}.JPG`), randomBytes(2_000_000));
  for (const concurrency of [1, 4]) {
    const label = `SMALL${concurrency}`;
    const s = await timed([
      'ingest',
      small,
      '--project',
      'bench',
      '--label',
      label,
      '--json',
      '--no-wait',
      '--concurrency',
      String(concurrency),
    ]);
    expect(s.code).toBe(0);
    const d = JSON.parse(s.stdout);
    report[`small_c${concurrency}`] = {
      files: d.counts.files,
      seconds: d.transfer.seconds,
      filesPerSecond: Math.round(d.counts.files / d.transfer.seconds),
      MBps: Math.round(d.transfer.bytesPerSecond / 1e6),
      peakRssMB: Math.round(s.maxRssKb / 1024),
    };
  }
  console.log(JSON.stringify(report, null, 2));
});
