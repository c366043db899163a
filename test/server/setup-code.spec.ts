import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@studiovault/testing';
import { freePort, requireBuild, type ServerProcess, startServer, waitForHealth } from './server-process';

const ADMIN = { email: 'first@studio.test', name: 'First Admin', password: 'a long first password' };

async function until(what: string, server: ServerProcess, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

describe('first-run setup code, as the real server prints it', () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-setup-code-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the code at every start until setup is done, and never after', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), DATABASE_URL: db.url, STUDIOVAULT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const codeIn = (out: string) => /setup code\n\n {4}([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})\n/.exec(out)?.[1];

    const first = startServer(env);
    await waitForHealth(base, first);
    await until('the setup code on the console', first, () => codeIn(first.output()) !== undefined);
    const code = codeIn(first.output())!;
    expect((await readFile(join(dataDir, 'setup-code'), 'utf8')).trim()).toBe(code);
    expect(first.output()).toMatch(new RegExp(`First-run setup code: ${code}`)); // the log line too
    await stop(first);

    const second = startServer(env);
    await waitForHealth(base, second);
    await until('the setup code again', second, () => codeIn(second.output()) !== undefined);
    expect(codeIn(second.output())).toBe(code);
    const post = (body: unknown) =>
      fetch(`${base}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(ADMIN)).status).toBe(403);
    expect((await post({ ...ADMIN, setupCode: code })).status).toBe(200);
    await stop(second);

    const third = startServer(env);
    await waitForHealth(base, third);
    await stop(third); // all it printed is in, then
    expect(third.output()).toContain('StudioVault is running');
    expect(third.output()).not.toContain('setup code');
    expect(existsSync(join(dataDir, 'setup-code'))).toBe(false);
  }, 120_000);
});
