import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
export const NODE = join(REPO, 'node_modules', '.bin', 'node');
export const SERVER_MAIN = join(REPO, 'dist', 'apps', 'api', 'src', 'main.js');

export function requireBuild(): void {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build:server\` first (npm test does)`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Standard output alone (a pipe: not a terminal). */
  stdout: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts the real server (`node dist/apps/api/src/main.js`) with only the given environment;
 * `command` runs it another way (it must exec the server in the end).
 */
export function startServer(env: Record<string, string>, command: string[] = [NODE, SERVER_MAIN]): ServerProcess {
  let out = '';
  let stdout = '';
  const child = spawn(command[0], command.slice(1), {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, stdout: () => stdout, exited };
}

export async function waitForHealth(base: string, server: ServerProcess, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < end && !exited) {
    try {
      const res = await fetch(`${base}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not become healthy:\n${server.output()}`);
}
