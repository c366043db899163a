/** What the portal end-to-end tests share: the server and Chromium, the server's health, stopping it, reading the page. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Locator } from 'playwright-core';

export const ROOT = resolve(__dirname, '../..');
export const WEB_DIR = join(ROOT, 'dist/apps/web/public');
export const SERVER_MAIN = join(ROOT, 'dist/apps/api/src/main.js');
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const CHROMIUM = process.env.STUDIOVAULT_CHROMIUM ?? '/usr/bin/chromium';

/** The built portal, the built server and Debian's Chromium, or one line saying what to run. */
export function requireBuilt(): void {
  for (const [what, file] of [
    ['The portal is not built', join(WEB_DIR, 'index.html')],
    ['The server is not built', SERVER_MAIN],
    ['Chromium is not installed', CHROMIUM],
  ] as const) {
    if (!existsSync(file))
      throw new Error(`${what} (${file} is missing): npm run build:server && npm run build:web; apt-get install -y chromium`);
  }
}

export interface Portal {
  server: ChildProcess;
  browser: Browser;
  baseUrl: string;
  output: () => string;
}

/**
 * The real server (built, serving the built portal) on a free port with a clean environment
 * (nothing from the developer's shell leaks in) plus the given variables, and Chromium, started
 * side by side; resolves once /api/health answers.
 */
export async function startPortal(env: Record<string, string>): Promise<Portal> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let out = '';
  const server = spawn(NODE, [SERVER_MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.STUDIOVAULT_E2E_SERVER_LOG ? 'info' : 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      STUDIOVAULT_WEB_DIR: WEB_DIR,
      STUDIOVAULT_SPACE_MARGIN_MB: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const output = () => out;
  try {
    const [browser] = await Promise.all([
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      }),
      waitForHealth(baseUrl, server, output),
    ]);
    return { server, browser, baseUrl, output };
  } catch (err) {
    await stopServer(server);
    throw err;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export async function waitForHealth(baseUrl: string, server: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`The API exited with code ${server.exitCode} before answering:\n${output()}`);
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`GET /api/health did not answer 200 within ${timeoutMs} ms:\n${output()}`);
}

export async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Text of the first match, once it is visible, with white space collapsed as a person reads it. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor({ state: 'visible' });
  return ((await locator.first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

export async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (
      (await locator
        .first()
        .textContent({ timeout: Math.min(1_000, timeoutMs) })
        .catch(() => '')) ?? ''
    )
      .replace(/\s+/g, ' ')
      .trim();
    if (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Expected ${locator} to show ${String(expected)}, it shows "${last}"`);
}

/** Polls an attribute of the first match until it equals `expected`; returns the values seen on the way. */
export async function waitForAttribute(locator: Locator, name: string, expected: string, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const value = await locator
      .first()
      .getAttribute(name, { timeout: 1_000 })
      .catch(() => null);
    if (value !== null && seen[seen.length - 1] !== value) seen.push(value);
    if (value === expected) return seen;
    if (Date.now() > deadline) throw new Error(`Expected ${locator} [${name}] to become "${expected}", it went ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
