import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '@studiovault/testing';
import { freePort, requireBuild, ServerProcess, startServer, waitForHealth } from '../server/server-process';
import { sourceHashes, tusUpload, uploadId, waitFor } from './ingest-helpers';

const ADMIN = { STUDIOVAULT_ADMIN_EMAIL: 'owner@studio.test', STUDIOVAULT_ADMIN_PASSWORD: 'a long headless password' };

describe('card ingest: the server is killed mid-file and restarted', () => {
  let db: TestDatabase;
  let dataDir: string;
  let primary: string;
  let mirror: string;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  let base: string;

  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'sv-restart-'));
    await chmod(dataDir, 0o755);
    primary = join(dataDir, 'primary');
    mirror = await mkdtemp('/dev/shm/sv-restart-mirror-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: primary,
      STUDIOVAULT_MIRROR_ROOT: mirror,
      STUDIOVAULT_SPACE_MARGIN_MB: '1',
      LOG_LEVEL: 'warn',
      ...ADMIN,
    };
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  });

  async function api(path: string, token: string, init: RequestInit = {}) {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('resumes the upload at its byte offset and seals it, verified', async () => {
    server = startServer(env);
    await waitForHealth(base, server);
    const login = await fetch(`${base}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.STUDIOVAULT_ADMIN_EMAIL, password: ADMIN.STUDIOVAULT_ADMIN_PASSWORD, tokenName: 'restart' }),
    });
    const { token } = (await login.json()) as { token: string };
    await api('/api/projects', token, {
      method: 'POST',
      body: JSON.stringify({ name: 'Restart', slug: 'restart', shootDate: '2026-05-01' }),
    });
    const card = await api('/api/projects/restart/cards', token, {
      method: 'POST',
      body: JSON.stringify({ label: 'R1', files: 1, bytes: 1 }),
    });
    expect(card.status).toBe(201);
    const data = randomBytes(8 * 1024 * 1024 + 99);

    // Create the upload, then send its bytes slowly in one PATCH and kill -9 the server mid-request.
    const created = await fetch(`${base}/files`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(data.length),
        'Upload-Metadata': `cardId ${Buffer.from(card.body.id).toString('base64')},relativePath ${Buffer.from('PRIVATE/CLIP/C0001.MP4').toString('base64')}`,
        authorization: `Bearer ${token}`,
      },
    });
    expect(created.status).toBe(201);
    const first = { url: new URL(created.headers.get('location')!, base).toString() };
    // The resumable offset is what both volumes hold: wait until each staged part has 3 MiB (on a
    // loaded machine one volume's write can trail the other's).
    const staged = [primary, mirror].map((root) => join(root, '.studiovault', 'staging', `${uploadId(first.url)}.part`));
    const stagedEverywhere = (bytes: number) => staged.every((f) => existsSync(f) && statSync(f).size >= bytes);
    const patch = request(first.url, {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        authorization: `Bearer ${token}`,
      },
    });
    patch.on('error', () => undefined); // the server dies under it
    let sent = 0;
    while (sent < data.length && !stagedEverywhere(3 * 1024 * 1024)) {
      patch.write(data.subarray(sent, sent + 256 * 1024));
      sent += 256 * 1024;
      await new Promise((r) => setTimeout(r, 20));
    }
    server.child.kill('SIGKILL');
    await server.exited;
    patch.destroy();
    expect(sent).toBeLessThan(data.length);

    server = startServer(env);
    await waitForHealth(base, server);
    const head = await fetch(first.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${token}` } });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(offset).toBeLessThan(data.length);

    await tusUpload({
      base,
      token,
      cardId: card.body.id,
      relativePath: 'PRIVATE/CLIP/C0001.MP4',
      data,
      chunkSize: 1024 * 1024,
      uploadUrl: first.url,
    });
    const seal = await api(`/api/uploads/${uploadId(first.url)}/seal`, token, { method: 'POST', body: JSON.stringify(sourceHashes(data)) });
    expect(seal.status).toBe(200); // the server's hash, rebuilt from the staged bytes after the restart, matches the card's
    await waitFor(
      async () => (await api(`/api/cards/${card.body.id}`, token)).body.state,
      (s) => s === 'verified',
      30_000,
    );
    expect(readFileSync(join(primary, seal.body.storedPath)).equals(data)).toBe(true);
    expect(readFileSync(join(mirror, seal.body.storedPath)).equals(data)).toBe(true);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);
});
