/** Helpers for tests that run the bundled CLI as a child process. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Bundles the CLI exactly as `npm run build:cli` does, into `outDir` (not apps/cli/dist: test
 * files run in parallel, and another one may be rewriting that file while this one runs it).
 */
export function buildCli(outDir: string): string {
  const out = join(outDir, 'studiovault.cjs');
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    ['apps/cli/src/main.ts', '--bundle', '--platform=node', '--target=node20', '--format=cjs', `--outfile=${out}`, '--log-level=warning'],
    { cwd: ROOT, stdio: 'pipe' },
  );
  return out;
}

export interface Started {
  child: ChildProcess;
  done: Promise<Run>;
  /** stderr so far (progress lines, notes). */
  stderr(): string;
}

/** Starts the CLI with a clean environment (no STUDIOVAULT_* or XDG_* from the caller). Asynchronous: the API runs in this process. */
export function startCli(cli: string, args: string[], env: Record<string, string | undefined>, input = ''): Started {
  const full: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STUDIOVAULT_') && !k.startsWith('XDG_')) full[k] = v;
  Object.assign(full, { NO_COLOR: '1' }, env);
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  const child = spawn(process.execPath, [cli, ...args], { env: full, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((ok, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => ok({ code, signal, stdout, stderr }));
  });
  child.stdin!.end(input);
  return { child, done, stderr: () => stderr };
}

/** stdout must be exactly one JSON document. */
export function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

export function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines[lines.length - 1];
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface ProxyControl {
  url: string;
  /** Where requests go; may change (a restarted server on another port). */
  target: string;
  server: Server;
  /** Called for each PATCH body chunk of an upload: may change it (corrupt a byte) or return 'cut' to drop the connection. */
  onPatchChunk?: (chunk: Buffer, offsetInRequest: number, patchNumber: number) => Buffer | 'cut';
  /** Runs before a request is passed on (its body waits). */
  beforeForward?: (method: string, url: string) => Promise<void>;
  patches: number;
  close(): Promise<void>;
}

/**
 * A plain HTTP proxy in front of the API that can damage tus PATCH bodies: flip a byte (the
 * bytes that arrive differ from the card) or cut the connection mid-body (a pulled cable).
 */
export async function startDamagingProxy(target: string): Promise<ProxyControl> {
  const control: ProxyControl = {
    url: '',
    target,
    server: undefined as unknown as Server,
    patches: 0,
    close: () => new Promise<void>((r) => control.server.close(() => r())),
  };
  control.server = createServer((req, res) => {
    req.pause();
    const before = control.beforeForward?.(req.method ?? '', req.url ?? '') ?? Promise.resolve();
    before.then(
      () => forward(req, res),
      () => res.destroy(),
    );
  });
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const isPatch = req.method === 'PATCH' && (req.url ?? '').startsWith('/files/');
    const patchNumber = isPatch ? ++control.patches : 0;
    const t = new URL(control.target);
    const upstream = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (up: IncomingMessage) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    let offset = 0;
    req.on('data', (chunk: Buffer) => {
      let out: Buffer | 'cut' = chunk;
      if (isPatch && control.onPatchChunk) out = control.onPatchChunk(chunk, offset, patchNumber);
      offset += chunk.length;
      if (out === 'cut') {
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      if (!upstream.write(out)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => upstream.end());
    req.on('aborted', () => upstream.destroy());
    req.resume();
  };
  control.server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => control.server.listen(0, '127.0.0.1', r));
  control.url = `http://127.0.0.1:${(control.server.address() as AddressInfo).port}`;
  return control;
}
