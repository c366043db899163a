import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp } from '@studiovault/testing';
import { ADMIN, setupAdmin, startApi, userToken } from './helpers';

type Who = 'anonymous' | 'viewer' | 'editor' | 'admin';
const RANK: Record<string, number> = { public: -1, viewer: 0, editor: 1, admin: 2 };
const WHO_RANK: Record<Who, number> = { anonymous: -0.5, viewer: 0, editor: 1, admin: 2 };

interface Operation {
  method: string;
  path: string;
  role: string;
  operationId: string;
}

/** Every endpoint of the committed OpenAPI spec, with the role it declares. */
function operations(): Operation[] {
  const spec = JSON.parse(readFileSync(join(__dirname, '../../../libs/api-client/openapi.json'), 'utf8'));
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      ops.push({ method: method.toUpperCase(), path, role: String(op['x-studiovault-role']), operationId: String(op.operationId) });
    }
  }
  return ops;
}

describe('role matrix: every endpoint × every role', () => {
  let t: TestApp;
  const tokens: Partial<Record<Who, string>> = {};
  let params: Record<string, string>;

  beforeAll(async () => {
    t = await startApi();
    tokens.admin = await setupAdmin(t);
    tokens.editor = await userToken(t, tokens.admin, 'editor');
    tokens.viewer = await userToken(t, tokens.admin, 'viewer');
    await t
      .http()
      .post('/api/projects')
      .auth(tokens.admin, { type: 'bearer' })
      .send({ name: 'Matrix Wedding', slug: 'matrix' })
      .expect(201);
    const users = await t.http().get('/api/users').auth(tokens.admin, { type: 'bearer' }).expect(200);
    const viewer = users.body.find((u: { email: string }) => u.email === 'viewer@studio.test');
    params = { slug: 'matrix', id: viewer.id };
  });
  afterAll(() => t.close());

  const ops = operations();

  it('declares a role on every endpoint of the spec', () => {
    expect(ops.length).toBeGreaterThan(15);
    for (const op of ops) expect(Object.keys(RANK)).toContain(op.role);
  });

  const cases = ops.flatMap((op) =>
    (['anonymous', 'viewer', 'editor', 'admin'] as Who[]).map((who) => [op.method, op.path, who, op] as const),
  );

  it.each(cases)('%s %s as %s', async (_m, _p, who, op) => {
    const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? 'x');
    let req = t.http()[op.method.toLowerCase() as 'get'](path);
    const token = who === 'anonymous' ? undefined : tokens[who];
    if (token) req = req.auth(token, { type: 'bearer' });
    // An empty body: allowed callers may get a 4xx validation error, but never 401/403.
    const res = ['POST', 'PATCH', 'PUT'].includes(op.method) ? await req.send({}) : await req;
    const required = RANK[op.role];
    if (required === -1) {
      expect([401, 403]).not.toContain(res.status);
    } else if (who === 'anonymous') {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    } else if (WHO_RANK[who] < required) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    } else {
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(500);
    }
  });

  it('the admin used for the matrix exists', () => expect(ADMIN.email).toContain('@'));
});
