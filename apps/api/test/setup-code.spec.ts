import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSetupCode, TestApp } from '@studiovault/testing';
import { ADMIN, startApi } from './helpers';

describe('first-run setup code across restarts', () => {
  let dataDir: string;
  let t: TestApp | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sv-setup-code-'));
  });
  afterAll(async () => {
    await t?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the same code after a restart until setup is done, then none', async () => {
    const first = await startApi({ STUDIOVAULT_DATA_DIR: dataDir });
    const code = await readSetupCode(dataDir);
    expect(code).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
    await first.app.close(); // keep the database: a restart
    t = await startApi({ STUDIOVAULT_DATA_DIR: dataDir }, first.db.url);
    expect(await readSetupCode(dataDir)).toBe(code);
    await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, setupCode: code })
      .expect(200);
    expect(existsSync(join(dataDir, 'setup-code'))).toBe(false);
    const again = await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, setupCode: code })
      .expect(409);
    expect(again.body.code).toBe('SETUP_ALREADY_DONE');
  });

  it('makes no code when the headless admin variables create the admin', async () => {
    const headless = await startApi({ STUDIOVAULT_ADMIN_EMAIL: 'boss@studio.test', STUDIOVAULT_ADMIN_PASSWORD: 'a long admin password' });
    try {
      expect(existsSync(join(headless.dataDir, 'setup-code'))).toBe(false);
    } finally {
      await headless.close();
    }
  });
});
