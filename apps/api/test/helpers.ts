import { JobQueue } from '@studiovault/jobs';
import { readSetupCode, startTestApp, TestApp } from '@studiovault/testing';
import { createApiApp } from '../src/application';

export const ADMIN = { email: 'admin@studio.test', name: 'Ada Admin', password: 'correct horse battery' };

/** The API as main.ts runs it without an in-process worker: its job queue started as a producer. */
export async function startApi(env: Record<string, string> = {}, existingDbUrl?: string): Promise<TestApp> {
  const t = await startTestApp((opts) => createApiApp(opts), env, existingDbUrl);
  await t.app.get(JobQueue).start('producer');
  return t;
}

/** Runs first-run setup and returns an admin API token. */
export async function setupAdmin(t: TestApp): Promise<string> {
  await t
    .http()
    .post('/api/setup')
    .send({ ...ADMIN, setupCode: await readSetupCode(t.dataDir) })
    .expect(200);
  const res = await t.http().post('/api/auth/token').send({ email: ADMIN.email, password: ADMIN.password, tokenName: 'tests' }).expect(200);
  return res.body.token as string;
}

/** Creates a user with a password and returns their API token. */
export async function userToken(t: TestApp, adminToken: string, role: string, email = `${role}@studio.test`): Promise<string> {
  const password = `${role}-password-123`;
  await t.http().post('/api/users').auth(adminToken, { type: 'bearer' }).send({ email, name: role, role, password }).expect(201);
  const res = await t.http().post('/api/auth/token').send({ email, password, tokenName: 'tests' }).expect(200);
  return res.body.token as string;
}
