/** Process and machine helpers shared by the benchmarks (Linux /proc; root for drop_caches and clear_refs). */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * What `npm start` and the container image (docker/Dockerfile) give the server process besides
 * its settings: glibc arenas capped, V8's young generation capped. SV_SERVER_NODE_OPTIONS
 * overrides the V8 flags for an experiment.
 */
export const SERVER_RUNTIME_ENV = {
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: process.env.SV_SERVER_NODE_OPTIONS ?? '--max-semi-space-size=4',
};

/** The V8 flags `npm start` and the container's command put before the server's script (see docker/Dockerfile). */
export const SERVER_NODE_ARGS = (process.env.SV_SERVER_NODE_ARGS ?? '--initial-old-space-size=128').split(' ').filter(Boolean);

export function sh(cmd: string, argv: string[], opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, argv, {
    stdio: opts.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'inherit'],
    env: opts.env,
  }).toString();
}

/** Writes dirty pages out, then drops the page cache: the next read comes from the device. */
export function dropCaches(): void {
  sh('sync', []);
  writeFileSync('/proc/sys/vm/drop_caches', '1\n');
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Peak resident memory (VmHWM) of a running process, in MB. */
export function peakMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident memory (VmRSS) of a running process, in MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resets a process's VmHWM to its current RSS (Linux ≥ 4.0), so the next reading covers one phase only. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5\n');
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime (14), stime (15)
}

export interface RunResult {
  code: number;
  out: string;
  /** The last 64 KiB of stderr, when captured. */
  err: string;
  /** Peak memory (VmHWM) in MB, sampled every 100 ms. */
  peak: number;
  /** CPU seconds, sampled every 100 ms: misses at most the last 100 ms. */
  cpu: number;
  seconds: number;
}

/** Runs a command to its end, sampling its peak memory and CPU time. */
export function run(
  cmd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
  opts: { captureStderr?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', opts.captureStderr ? 'pipe' : 'inherit'] });
    let out = '';
    let err = '';
    let peak = 0;
    let cpu = 0;
    child.stdout!.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err = (err + d).slice(-65536)));
    const timer = setInterval(() => {
      try {
        const p = peakMb(child.pid!);
        if (Number.isFinite(p)) peak = Math.max(peak, p);
        cpu = cpuSeconds(child.pid!);
      } catch {
        // exited
      }
    }, 100);
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, out, err, peak, cpu, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}
