import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBuild, startServer, waitForHealth } from './server-process';

/**
 * The embedded default after the faults a NAS sees: the server killed without warning (its
 * Postgres outlives it), the Postgres port taken by another program, the Postgres killed under
 * a running server, and a first start as root from a private folder.
 */
const ADMIN = { STUDIOVAULT_ADMIN_EMAIL: 'owner@studio.test', STUDIOVAULT_ADMIN_PASSWORD: 'a long headless password' };

function postmasterPid(dataDir: string): number {
  const location = join(dataDir, 'postgres.location');
  const cluster = existsSync(location) ? readFileSync(location, 'utf8').trim() : join(dataDir, 'postgres');
  return Number(readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the embedded default recovers from crashes', () => {
  let dataDir: string;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-embedded-crash-'));
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function envFor(dir: string): Promise<Record<string, string>> {
    return {
      PORT: String(await freePort()),
      STUDIOVAULT_DATA_DIR: dir,
      STUDIOVAULT_EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      ...ADMIN,
    };
  }

  it('a server killed with SIGKILL leaves its Postgres behind; the next start stops that orphan and starts', async () => {
    const env = await envFor(dataDir);
    const base = `http://127.0.0.1:${env.PORT}`;
    const first = startServer(env);
    cleanups.push(() => first.child.kill('SIGKILL'));
    await waitForHealth(base, first);
    const orphan = postmasterPid(dataDir);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(alive(orphan)).toBe(true); // what an out-of-memory kill leaves

    const second = startServer({ ...env, LOG_LEVEL: 'info' });
    cleanups.push(() => second.child.kill('SIGKILL'));
    await waitForHealth(base, second);
    expect(second.output()).toContain(`left running by an earlier StudioVault process (pid ${orphan})`);
    expect(alive(orphan)).toBe(false);
    expect(await (await fetch(`${base}/api/setup`)).json()).toMatchObject({ needsSetup: false });

    // The Postgres of a running server killed under it: the server stays up and the database comes back.
    const running = postmasterPid(dataDir);
    process.kill(running, 'SIGKILL');
    await until('the embedded Postgres to be started again', () => {
      try {
        const pid = postmasterPid(dataDir);
        return pid !== running && alive(pid);
      } catch {
        return false;
      }
    });
    await waitForHealth(base, second);
    expect(second.child.exitCode).toBeNull();
    expect(second.output()).toContain('the embedded Postgres stopped unexpectedly');
    const login = await fetch(`${base}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.STUDIOVAULT_ADMIN_EMAIL, password: ADMIN.STUDIOVAULT_ADMIN_PASSWORD, tokenName: 'after-crash' }),
    });
    expect(login.status).toBe(200);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('says in one line that the Postgres port is taken, and which setting changes it', async () => {
    const env = await envFor(dataDir);
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(Number(env.STUDIOVAULT_EMBEDDED_PG_PORT), '127.0.0.1', r));
    try {
      const server = startServer(env);
      expect(await server.exited).toBe(1);
      const lines = server.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^StudioVault cannot start: port ${env.STUDIOVAULT_EMBEDDED_PG_PORT} on 127\\.0\\.0\\.1 is taken .*STUDIOVAULT_EMBEDDED_PG_PORT`,
        ),
      );
      expect(server.output()).not.toContain('undefined');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  }, 60_000);

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  (asRoot ? it : it.skip)(
    'starts as root from a private folder (mode 0700) that user postgres cannot enter',
    async () => {
      const home = await mkdtemp(join(tmpdir(), 'sv-private-home-'));
      await chmod(home, 0o700);
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const dir = join(home, 'studio', 'data');
      await mkdir(dir, { recursive: true });
      expect(execFileSync('stat', ['-c', '%a', home], { encoding: 'utf8' }).trim()).toBe('700');

      const env = await envFor(dir);
      const base = `http://127.0.0.1:${env.PORT}`;
      const server = startServer(env);
      cleanups.push(() => server.child.kill('SIGKILL'));
      await waitForHealth(base, server);
      const cluster = (await readFile(join(dir, 'postgres.location'), 'utf8')).trim();
      cleanups.push(() => rm(cluster, { recursive: true, force: true }));
      expect(cluster.startsWith('/var/lib/studiovault/embedded-postgres/clusters/')).toBe(true);
      expect(existsSync(join(cluster, 'PG_VERSION'))).toBe(true);
      expect(execFileSync('stat', ['-c', '%a', home], { encoding: 'utf8' }).trim()).toBe('700'); // nothing opened up
      expect(await (await fetch(`${base}/api/setup`)).json()).toMatchObject({ needsSetup: false });
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);

      // Started again, it finds the same database.
      const again = startServer(env);
      cleanups.push(() => again.child.kill('SIGKILL'));
      await waitForHealth(base, again);
      expect(await (await fetch(`${base}/api/setup`)).json()).toMatchObject({ needsSetup: false });
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
    180_000,
  );
});
