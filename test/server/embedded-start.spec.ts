import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@studiovault/testing';
import { freePort, requireBuild, startServer, waitForHealth } from './server-process';

const ADMIN = { STUDIOVAULT_ADMIN_EMAIL: 'owner@studio.test', STUDIOVAULT_ADMIN_PASSWORD: 'a long headless password' };

describe('npm start: the embedded default, as a real process', () => {
  let dataDir: string;
  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-embedded-'));
    await chmod(dataDir, 0o755); // the embedded Postgres runs as its own user and must reach its folder
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('starts with an embedded Postgres, creates the headless admin, stops cleanly, and keeps its data', async () => {
    const port = await freePort();
    const env = {
      PORT: String(port),
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      ...ADMIN,
    };
    const base = `http://127.0.0.1:${port}`;
    const first = startServer(env);
    await waitForHealth(base, first);
    expect(first.output()).toContain(`StudioVault is running: http://localhost:${port}/`);
    expect(first.output()).toContain('embedded Postgres');
    expect(first.output()).not.toContain(ADMIN.STUDIOVAULT_ADMIN_PASSWORD);

    expect(await (await fetch(`${base}/api/setup`)).json()).toMatchObject({ needsSetup: false });
    const token = await fetch(`${base}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: ADMIN.STUDIOVAULT_ADMIN_EMAIL,
        password: ADMIN.STUDIOVAULT_ADMIN_PASSWORD,
        tokenName: 'embedded-test',
      }),
    });
    expect(token.status).toBe(200);
    const { token: bearer } = (await token.json()) as { token: string };
    const volumes = (await (await fetch(`${base}/api/volumes`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as {
      role: string;
      rootPath: string;
      sameDevice: boolean;
    }[];
    expect(volumes.map((v) => v.role)).toEqual(['mirror', 'primary']);
    expect(volumes.every((v) => v.rootPath.startsWith(dataDir))).toBe(true);
    expect(volumes.every((v) => v.sameDevice)).toBe(true); // both under the data folder: flagged

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // Second start on the same data folder: the catalog is still there.
    const second = startServer(env);
    await waitForHealth(base, second);
    expect(await (await fetch(`${base}/api/setup`)).json()).toMatchObject({ needsSetup: false });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('uses DATABASE_URL when given, and flags volume roots on different devices as two media', async () => {
    const db = await createTestDatabase();
    const shm = await mkdtemp('/dev/shm/sv-mirror-');
    try {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = startServer({
        PORT: String(port),
        DATABASE_URL: db.url,
        STUDIOVAULT_DATA_DIR: dataDir,
        STUDIOVAULT_PRIMARY_ROOT: join(dataDir, 'primary-pool'),
        STUDIOVAULT_MIRROR_ROOT: shm,
        LOG_LEVEL: 'warn',
        ...ADMIN,
      });
      await waitForHealth(base, server);
      expect(server.output()).toContain('database: DATABASE_URL');
      const t = await fetch(`${base}/api/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: ADMIN.STUDIOVAULT_ADMIN_EMAIL, password: ADMIN.STUDIOVAULT_ADMIN_PASSWORD, tokenName: 'x' }),
      });
      const { token } = (await t.json()) as { token: string };
      const volumes = (await (await fetch(`${base}/api/volumes`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        sameDevice: boolean;
        state: string;
      }[];
      expect(volumes).toHaveLength(2);
      expect(volumes.every((v) => !v.sameDevice && v.state === 'online')).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      await rm(shm, { recursive: true, force: true });
      await db.drop();
    }
  }, 60_000);

  it.each([
    [
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' },
      /^StudioVault cannot start: DATABASE_URL: cannot connect to 127\.0\.0\.1:1\/nothing/,
    ],
    [
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' },
      /^StudioVault cannot start: STUDIOVAULT_SECRET_KEY \(or STUDIOVAULT_SECRET_KEY_FILE\) is required/,
    ],
    [{ PORT: 'http' }, /^StudioVault cannot start: PORT must be an integer/],
  ])(
    'refuses to start on %j with one line saying which setting',
    async (env, message) => {
      const server = startServer({ STUDIOVAULT_DATA_DIR: dataDir, ...env });
      expect(await server.exited).toBe(1);
      const lines = server.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    },
    30_000,
  );
});
