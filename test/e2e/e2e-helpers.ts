/** What the portal end-to-end tests share: a free port, the server's health, stopping it, reading the page. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Locator } from 'playwright-core';

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
