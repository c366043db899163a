/**
 * End-to-end: the built portal under its Content-Security-Policy, in Chromium. Signs in, walks
 * the pages a studio uses (hashing a card folder in the browser with WebAssembly included) and
 * fails on any CSP violation, reported as a `securitypolicyviolation` event or a console message.
 *
 *   npm run build:server && npm run build:web && npx jest test/e2e/csp.spec.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createTestDatabase, readSetupCode, type TestDatabase } from '@studiovault/testing';
import { type Portal, requireBuilt, startPortal, stopServer } from './e2e-helpers';

jest.setTimeout(90_000);

const ADMIN = { name: 'Cora Policy', email: 'cora@studio.test', password: 'content security policy' };
const SLUG = 'csp-wedding';

describe('the portal under its CSP (built SPA, real server, Chromium)', () => {
  let db: TestDatabase;
  let dataDir: string;
  let portal: Portal | undefined;
  let page: Page;
  /** Every violation any page reported, through a binding that outlives page loads. */
  const violations: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    db = await createTestDatabase('sv_e2e_csp');
    dataDir = await mkdtemp(join(tmpdir(), 'sv-e2e-csp-'));
    portal = await startPortal({
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: join(dataDir, 'primary'),
      STUDIOVAULT_MIRROR_ROOT: join(dataDir, 'mirror'),
    });
    const post = (path: string, body: unknown) =>
      fetch(`${portal!.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/setup', { ...ADMIN, setupCode: await readSetupCode(dataDir) })).status).toBe(200);
    const context = await portal.browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    await context.exposeBinding('__reportCsp', (_source, violation: string) => void violations.push(violation));
    // A string: this file is compiled without the DOM's types.
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) =>
        window.__reportCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));`,
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/content security policy|refused to/i.test(m.text())) violations.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await portal?.browser.close().catch(() => undefined);
    await stopServer(portal?.server);
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('serves the shell with the CSP and the other headers', async () => {
    const res = await page.goto(`${portal!.baseUrl}/login`);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]{44}'/);
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.getByTestId('login-email').waitFor();
    expect(violations).toEqual([]);
  });

  it('reports a violation when one happens (the listener works)', async () => {
    await page.evaluate(`{
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.body.appendChild(s);
    }`);
    const deadline = Date.now() + 10_000;
    while (!violations.some((v) => v.includes('script-src')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    expect(violations.join('\n')).toMatch(/script-src/);
    violations.length = 0;
  });

  it('signs in, walks the pages and hashes a card folder in the browser without a violation', async () => {
    await page.getByTestId('login-email').fill(ADMIN.email);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL('**/projects');

    // A project, made in the portal.
    await page.getByTestId('new-project').click();
    await page.getByTestId('project-name').fill('CSP Wedding');
    await page.getByTestId('project-submit').click();
    await page.locator(`[data-testid="project-row"][data-slug="${SLUG}"]`).waitFor();

    for (const nav of ['nav-users', 'nav-audit', 'nav-tokens', 'nav-drills', 'nav-restore', 'nav-settings', 'nav-projects']) {
      await page.getByTestId(nav).click();
      await page.waitForLoadState('networkidle');
    }

    // A card folder, hashed with hash-wasm (WebAssembly) and sent with tus.
    const folder = join(dataDir, 'upload', 'A001');
    await mkdir(join(folder, 'DCIM'), { recursive: true });
    await writeFile(join(folder, 'DCIM', 'IMG_0001.JPG'), Buffer.alloc(50_000, 7));
    await page.goto(`${portal!.baseUrl}/projects/${SLUG}`);
    await page.getByTestId('upload-open').click();
    await page.getByTestId('upload-input').setInputFiles(folder);
    await page.getByTestId('upload-start').click();
    await page.getByTestId('upload-done').waitFor({ timeout: 30_000 });

    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
