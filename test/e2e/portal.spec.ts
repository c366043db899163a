/**
 * End-to-end: the built portal (dist/apps/web/public) served by the real API process, against
 * a fresh Postgres database, driven by Debian's Chromium through playwright-core.
 *
 *   npm run build:server && npm run build:web && npx jest test/e2e
 *
 * One scenario, in order: first-run setup, projects (create, page, search, edit, archive),
 * users (account, invitation), API tokens, audit log, sign-out, an editor's view, a wrong
 * password, and an invited viewer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createTestDatabase, readSetupCode, type TestDatabase } from '@studiovault/testing';
import { freePort, stopServer, textOf, waitForHealth, waitForText } from './e2e-helpers';

const ROOT = resolve(__dirname, '../..');
const WEB_DIR = join(ROOT, 'dist/apps/web/public');
const SERVER_MAIN = join(ROOT, 'dist/apps/api/src/main.js');
// The server needs Node 24, whatever Node runs jest.
const NODE = join(ROOT, 'node_modules/.bin/node');
const CHROMIUM = process.env.STUDIOVAULT_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = '/tmp/portal-projects.png';
/** Set to a folder to keep a screenshot of every step (for reviewing the look of the portal). */
const SHOTS_DIR = process.env.STUDIOVAULT_E2E_SCREENSHOTS;

const ADMIN = { name: 'Mara Studio', email: 'mara@studio.test', password: 'correct horse battery staple' };
const EDITOR = { name: 'Eddie Editor', email: 'eddie@studio.test', password: 'editor-password-2026' };
const EDITOR_RESET_PASSWORD = 'editor-reset-password-2026';
const ADMIN_NEW_PASSWORD = 'admin-new-password-2026';
const VIEWER = { name: 'Vera Viewer', email: 'vera@studio.test', password: 'viewer-password-2026' };

/** Other projects of the studio, made through the API so the list has more than one page. */
const MORE_PROJECTS: { name: string; client: string; shootDate: string; type: string }[] = [
  ['Keller Family Portraits', 'Jana Keller', '2026-03-14', 'family'],
  ['Baby Noah Newborn', 'Lena Brandt', '2026-04-02', 'newborn'],
  ['Hofmann Wines Catalogue', 'Hofmann Weingut', '2026-04-20', 'commercial'],
  ['Spring Gala 2026', 'City Orchestra', '2026-05-08', 'event'],
  ['Sofia Headshots', 'Sofia Marin', '2026-05-11', 'portrait'],
  ['Lukas & Emma Wedding', 'Emma Roth', '2026-05-30', 'wedding'],
  ['Atelier Nord Lookbook', 'Atelier Nord', '2026-06-03', 'commercial'],
  ['Becker Reunion', 'Tom Becker', '2026-06-14', 'family'],
  ['Jonas Graduation', 'Jonas Weber', '2026-06-21', 'portrait'],
  ['Summer Fair', 'Old Town Council', '2026-07-04', 'event'],
  ['Mia & Leon Wedding', 'Mia Schulz', '2026-07-11', 'wedding'],
  ['Klein Bakery Menu', 'Klein Bakery', '2026-07-18', 'commercial'],
  ['Twins Newborn Session', 'Sarah Vogel', '2026-07-25', 'newborn'],
  ['Board Portraits Q3', 'Nordbank', '2026-08-01', 'portrait'],
  ['Jazz Night', 'Blue Cellar', '2026-08-08', 'event'],
  ['Fischer Family Beach', 'Paul Fischer', '2026-08-15', 'family'],
  ['Clara & Ben Elopement', 'Clara Wolf', '2026-08-22', 'wedding'],
  ['Studio Test Shoot', '', '2026-08-29', 'other'],
  ['Anders Architecture', 'Anders & Partner', '2026-09-01', 'commercial'],
  ['Marathon 2026', 'Run Club', '2026-09-06', 'event'],
  ['Greta Maternity', 'Greta Lang', '2026-09-10', 'portrait'],
  ['Lena & Max Wedding', 'Max Hahn', '2026-09-19', 'wedding'],
].map(([name, client, shootDate, type]) => ({ name: name!, client: client!, shootDate: shootDate!, type: type! }));

jest.setTimeout(60_000);

const path = (page: Page) => new URL(page.url()).pathname;

/** The values of `attribute` on every element matching `selector`, polled until they equal `expected`. */
async function waitForAttributes(page: Page, selector: string, attribute: string, expected: string[], timeoutMs = 5_000): Promise<void> {
  const read = () => page.locator(selector).evaluateAll((els, name) => els.map((e) => e.getAttribute(name)), attribute);
  const deadline = Date.now() + timeoutMs;
  let shown = await read();
  while (JSON.stringify(shown) !== JSON.stringify(expected)) {
    if (Date.now() > deadline)
      throw new Error(`Expected ${selector} [${attribute}] to be ${JSON.stringify(expected)}, the page shows ${JSON.stringify(shown)}`);
    await new Promise((r) => setTimeout(r, 50));
    shown = await read();
  }
}

/** Waits until the project table shows exactly these rows (by slug), in this order. */
const waitForProjectRows = (page: Page, slugs: string[]) => waitForAttributes(page, '[data-testid="project-row"]', 'data-slug', slugs);

describe('web portal (built SPA served by the real API, in Chromium)', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let baseUrl: string;
  const pageErrors: string[] = [];

  const url = (p: string) => `${baseUrl}${p}`;

  async function snap(name: string) {
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: true });
  }

  async function signIn(email: string, password: string) {
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
  }

  async function signOut() {
    await page.getByTestId('logout').click();
    await page.waitForURL('**/login');
  }

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIR, 'index.html'))) {
      throw new Error(`The portal is not built (${WEB_DIR}/index.html is missing). Run \`npm run build:web\` first.`);
    }
    if (!existsSync(SERVER_MAIN)) {
      throw new Error(`The server is not built (${SERVER_MAIN} is missing). Run \`npm run build:server\` first.`);
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` (or set STUDIOVAULT_CHROMIUM).`,
      );
    }

    db = await createTestDatabase('sv_e2e');
    dataDir = await mkdtemp(join(tmpdir(), 'sv-e2e-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;

    server = spawn(NODE, [SERVER_MAIN], {
      cwd: ROOT,
      // A clean environment: nothing from the developer's shell (an admin e-mail, another database) leaks in.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: db.url,
        STUDIOVAULT_DATA_DIR: dataDir,
        STUDIOVAULT_WEB_DIR: WEB_DIR,
        // Volumes and problems are checked every second here (30 s by default): the problems banner test waits on them.
        STUDIOVAULT_VOLUME_CHECK_SECONDS: '1',
        STUDIOVAULT_ALERT_CHECK_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (d: Buffer) => (serverOutput += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (serverOutput += d.toString()));

    const [launched] = await Promise.all([
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
      waitForHealth(baseUrl, server, () => serverOutput),
    ]);
    browser = launched;
    context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Berlin', viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 45_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stopServer(server);
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('sends a fresh install to first-run setup, which creates the admin and signs in', async () => {
    await page.goto(url('/'));
    await page.waitForURL('**/setup');

    // Without the one-time code the server printed, nobody on the network becomes the admin.
    await page.getByTestId('setup-code').fill('WRONG-CODE-0000-0000');
    await page.getByTestId('setup-name').fill(ADMIN.name);
    await page.getByTestId('setup-email').fill(ADMIN.email);
    await page.getByTestId('setup-password').fill(ADMIN.password);
    await page.getByTestId('setup-confirm').fill(ADMIN.password);
    await page.getByTestId('setup-submit').click();
    expect(await textOf(page.getByTestId('form-error'))).toContain('setup code is wrong');
    await page.getByTestId('setup-code').fill(await readSetupCode(dataDir!));

    // The page checks what the server would refuse anyway, before sending.
    await page.getByTestId('setup-name').fill(ADMIN.name);
    await page.getByTestId('setup-email').fill(ADMIN.email);
    await page.getByTestId('setup-password').fill('too-short');
    await page.getByTestId('setup-confirm').fill('too-short');
    await page.getByTestId('setup-submit').click();
    expect(await textOf(page.getByTestId('form-error'))).toContain('at least 12 characters');
    await snap('setup');

    await page.getByTestId('setup-password').fill(ADMIN.password);
    await page.getByTestId('setup-confirm').fill(ADMIN.password);
    await page.getByTestId('setup-submit').click();
    await page.waitForURL('**/projects');

    expect(await textOf(page.getByTestId('session-email'))).toBe(ADMIN.email);
    expect(await textOf(page.getByTestId('session-role'))).toBe('admin');
    await page.getByTestId('nav-users').waitFor();
    await page.getByTestId('project-empty').waitFor();

    // Setup is done once: /setup now leads away.
    await page.goto(url('/setup'));
    await page.waitForURL('**/projects');
  });

  it('keeps the session in an httpOnly, SameSite=Strict cookie that scripts cannot read', async () => {
    const cookie = (await context.cookies(baseUrl)).find((c) => c.name === 'sv_session');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Strict');
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sv_session');
  });

  it('warns when primary and mirror share a device, and shows the volumes in the header', async () => {
    // Both default volumes live under one temporary data folder: one device.
    const banner = page.getByTestId('same-device-banner');
    expect(await textOf(banner)).toContain('Primary and mirror are on the same device — not two media');
    expect(await textOf(page.getByTestId('volume-summary'))).toBe('Same device');
  });

  it('shows a problems banner on every page while the mirror is offline, linking to where it is fixed; gone when it is back', async () => {
    const mirror = join(dataDir!, 'volumes', 'mirror');
    await rename(mirror, `${mirror}-away`);
    const banner = page.getByTestId('problems-banner');
    // The banner polls every 30 s and on each navigation: move between pages until the detector has seen it.
    const deadline = Date.now() + 20_000;
    while (!(await banner.isVisible())) {
      if (Date.now() > deadline) throw new Error('no problems banner after 20 s');
      await page.goto(url(Math.random() < 0.5 ? '/projects' : '/drills'));
      await page.waitForLoadState('networkidle');
    }
    const problem = banner.getByTestId('problem').first();
    expect(await problem.getAttribute('data-kind')).toBe('volume_offline');
    expect(await textOf(problem)).toContain(`The mirror volume is offline: root missing at ${mirror}`);
    await page.goto(url('/tokens'));
    await banner.waitFor({ state: 'visible' }); // on every page
    await snap('problems-banner');
    await banner.getByTestId('problem-link').first().click();
    await page.waitForURL('**/admin/settings');
    await waitForText(page.getByTestId('volume-mirror'), /root missing at/);

    await rename(`${mirror}-away`, mirror);
    const until = Date.now() + 20_000;
    while (await banner.isVisible()) {
      if (Date.now() > until) throw new Error('the problems banner stayed after the mirror came back');
      await page.goto(url(Math.random() < 0.5 ? '/projects' : '/drills'));
      await page.waitForLoadState('networkidle');
    }
    await page.goto(url('/projects'));
    await page.waitForLoadState('networkidle');
  });

  it('lets the admin add a webhook channel (its made secret shown once, never listed) and set thresholds on the Alerts page', async () => {
    await page.getByTestId('nav-alerts').click();
    await page.waitForURL('**/admin/alerts');
    await page.getByTestId('channel-kind').selectOption('webhook');
    await page.getByTestId('channel-name').fill('studio chat');
    await page.getByTestId('channel-url').fill('https://hooks.example.test/services/T000/SECRET-PATH');
    await page.getByTestId('channel-add').click();
    const secret = await page.getByTestId('channel-secret').inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const row = page.locator('[data-testid="channel-row"][data-name="studio chat"]');
    expect(await textOf(row)).toContain('https://hooks.example.test (json)');
    expect(await textOf(page.getByTestId('channels-panel'))).not.toContain('SECRET-PATH');
    await page.getByTestId('dismiss-secret').click();
    await page.getByTestId('threshold-driveReminderDays').fill('14');
    await page.getByTestId('alert-settings').getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByTestId('alert-settings-saved').waitFor();
    await page.reload();
    expect(await page.getByTestId('threshold-driveReminderDays').inputValue()).toBe('14');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.getByTestId('no-channels').waitFor();
    await page.goto(url('/projects'));
    await page.waitForLoadState('networkidle');
  });

  it('creates a project from the form and lists it', async () => {
    await page.getByTestId('new-project').click();
    await page.getByTestId('project-name').fill('Anna & Ben — Wedding');
    await page.getByTestId('project-client').fill('Anna Keller');
    await page.getByTestId('project-shoot-date').fill('2026-09-12');
    await page.getByTestId('project-type').selectOption('wedding');
    await snap('project-form');
    await page.getByTestId('project-submit').click();

    expect(await textOf(page.getByTestId('project-created'))).toContain('anna-ben-wedding');
    const row = page.locator('[data-testid="project-row"][data-slug="anna-ben-wedding"]');
    await row.waitFor();
    const rowText = await row.innerText();
    expect(rowText).toContain('Anna & Ben — Wedding');
    expect(rowText).toContain('Anna Keller');
    expect(rowText).toMatch(/12 Sept? 2026/); // en-GB: ICU versions differ on "Sep" / "Sept"
    expect(rowText).toContain('Wedding');

    // A duplicate folder name is refused with the server's message.
    await page.getByTestId('new-project').click();
    await page.getByTestId('project-name').fill('Anna & Ben — Wedding');
    await page.getByTestId('project-submit').click();
    expect(await textOf(page.getByTestId('project-form').getByTestId('form-error'))).toMatch(/anna-ben-wedding|exists|taken/i);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('refuses cookie-authenticated writes without the CSRF token', async () => {
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/projects', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'No CSRF' }),
      });
      return { status: res.status, code: ((await res.json()) as { code: string }).code };
    });
    expect(status).toEqual({ status: 403, code: 'CSRF_TOKEN_INVALID' });
  });

  it('pages and searches the project list', async () => {
    const made = await page.evaluate(async (projects) => {
      const { csrfToken } = (await (await fetch('/api/auth/session')).json()) as { csrfToken: string };
      let ok = 0;
      for (const p of projects) {
        const body = { name: p.name, type: p.type, shootDate: p.shootDate, ...(p.client ? { client: p.client } : {}) };
        const res = await fetch('/api/projects', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
          body: JSON.stringify(body),
        });
        if (res.status === 201) ok++;
      }
      return ok;
    }, MORE_PROJECTS);
    expect(made).toBe(MORE_PROJECTS.length);
    const total = MORE_PROJECTS.length + 1;

    await page.reload();
    expect(await waitForText(page.getByTestId('pager-range'), `1–20 of ${total}`)).toBe(`1–20 of ${total}`);
    expect(await page.getByTestId('project-row').count()).toBe(20);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByTestId('pager-next').click();
    await waitForText(page.getByTestId('pager-range'), `21–${total} of ${total}`);
    expect(new URL(page.url()).searchParams.get('offset')).toBe('20');
    expect(await page.getByTestId('project-row').count()).toBe(total - 20);
    await page.getByTestId('pager-prev').click();
    await waitForText(page.getByTestId('pager-range'), `1–20 of ${total}`);

    await page.getByTestId('project-search').fill('anna');
    await waitForProjectRows(page, ['anna-ben-wedding']);
    expect(await textOf(page.getByTestId('pager-range'))).toBe('1–1 of 1');
    expect(new URL(page.url()).searchParams.get('q')).toBe('anna');

    // Search matches clients too.
    await page.getByTestId('project-search').fill('Hofmann Weingut');
    await waitForProjectRows(page, ['hofmann-wines-catalogue']);

    await page.getByTestId('project-search').fill('no such shoot');
    expect(await textOf(page.getByTestId('project-empty'))).toContain('No projects match');
    await page.getByTestId('project-search').fill('');
    await waitForText(page.getByTestId('pager-range'), `1–20 of ${total}`);
  });

  it('shows a project, renames it after a reload (CSRF token recovered), and archives it', async () => {
    await page.getByTestId('project-search').fill('anna');
    await waitForProjectRows(page, ['anna-ben-wedding']);
    await page.getByTestId('project-table').getByRole('link', { name: 'Anna & Ben — Wedding' }).click();
    await page.waitForURL('**/projects/anna-ben-wedding');
    expect(await textOf(page.getByTestId('project-title'))).toBe('Anna & Ben — Wedding');
    expect(await textOf(page.getByTestId('project-client'))).toBe('Anna Keller');
    expect(await textOf(page.getByTestId('project-type'))).toBe('Wedding');
    expect(await textOf(page.getByTestId('project-status'))).toBe('active');

    // After a full reload the CSRF token comes back from GET /auth/session; writes still work.
    await page.reload();
    await page.getByTestId('edit-project').click();
    await page.getByTestId('edit-name').fill('Anna & Ben — Lake Como Wedding');
    await page.getByTestId('edit-client').fill('Anna & Ben Keller');
    await page.getByTestId('edit-save').click();
    await page.getByTestId('project-saved').waitFor();
    expect(await textOf(page.getByTestId('project-title'))).toBe('Anna & Ben — Lake Como Wedding');
    expect(await textOf(page.getByTestId('project-client'))).toBe('Anna & Ben Keller');
    expect(path(page)).toBe('/projects/anna-ben-wedding');

    await page.getByTestId('archive-project').click();
    await page.getByTestId('archive-confirm').click();
    await waitForText(page.getByTestId('project-status'), 'archived');
    expect(await page.getByTestId('edit-project').count()).toBe(0);
    await snap('project-archived');

    await page.getByTestId('nav-projects').click();
    await page.waitForURL('**/projects');
    await page.getByTestId('project-status-filter').selectOption('archived');
    await waitForProjectRows(page, ['anna-ben-wedding']);
  });

  let inviteLink = '';
  let resetLink = '';

  it('lets the admin create an editor, invite a viewer, and disable and enable an account', async () => {
    await page.getByTestId('nav-users').click();
    await page.waitForURL('**/admin/users');
    await page.locator(`[data-testid="user-row"][data-email="${ADMIN.email}"]`).waitFor();

    await page.getByTestId('new-user').click();
    await page.getByTestId('user-name').fill(EDITOR.name);
    await page.getByTestId('user-email').fill(EDITOR.email);
    await page.getByTestId('user-role-new').selectOption('editor');
    await page.getByTestId('user-mode-password').check();
    await page.getByTestId('user-password').fill(EDITOR.password);
    await page.getByTestId('user-submit').click();
    expect(await textOf(page.getByTestId('user-created'))).toContain(EDITOR.email);
    const editorRow = page.locator(`[data-testid="user-row"][data-email="${EDITOR.email}"]`);
    await editorRow.waitFor();
    expect(await editorRow.getByTestId('user-role').inputValue()).toBe('editor');
    expect(await textOf(editorRow.getByTestId('user-status'))).toBe('active');

    // A password reset for the editor: a one-time link, shown once like an invitation.
    await editorRow.getByTestId('user-reset-password').click();
    resetLink = await page.getByTestId('reset-link').inputValue();
    expect(resetLink.startsWith(`${baseUrl}/reset-password?token=svr_`)).toBe(true);
    await snap('users-reset-link');
    await page.getByTestId('dismiss-secret').click();
    expect(await page.getByTestId('reset-link').count()).toBe(0);

    await page.getByTestId('new-user').click();
    await page.getByTestId('user-name').fill(VIEWER.name);
    await page.getByTestId('user-email').fill(VIEWER.email);
    await page.getByTestId('user-role-new').selectOption('viewer');
    await page.getByTestId('user-mode-invite').check();
    await page.getByTestId('user-submit').click();
    const token = await textOf(page.getByTestId('invite-token'));
    expect(token.length).toBeGreaterThan(20);
    inviteLink = await page.getByTestId('invite-link').inputValue();
    expect(inviteLink).toBe(`${baseUrl}/accept-invite?token=${encodeURIComponent(token)}`);
    await snap('users-invite');
    const viewerRow = page.locator(`[data-testid="user-row"][data-email="${VIEWER.email}"]`);
    expect(await textOf(viewerRow.getByTestId('user-status'))).toBe('invited');

    // The invitation is shown once: gone after a reload.
    await page.reload();
    await viewerRow.waitFor();
    expect(await page.getByTestId('invite-token').count()).toBe(0);

    await viewerRow.getByTestId('user-toggle-disabled').click();
    await waitForText(viewerRow.getByTestId('user-status'), 'disabled');
    await viewerRow.getByTestId('user-toggle-disabled').click();
    await waitForText(viewerRow.getByTestId('user-status'), 'invited');

    // The last admin cannot demote themself: the server's message is shown in the row.
    const adminRow = page.locator(`[data-testid="user-row"][data-email="${ADMIN.email}"]`);
    await adminRow.getByTestId('user-role').selectOption('viewer');
    expect(await textOf(page.getByTestId('user-table').getByTestId('form-error'))).toContain('last active admin');
    await snap('users-last-admin');
    await waitForText(page.locator(`[data-testid="user-row"][data-email="${ADMIN.email}"] [data-testid="user-status"]`), 'active');
    expect(await adminRow.getByTestId('user-role').inputValue()).toBe('admin');
  });

  it('creates an API token, shows it once, records its use, and revokes it', async () => {
    await page.getByTestId('nav-tokens').click();
    await page.waitForURL('**/tokens');
    await page.getByTestId('token-empty').waitFor();
    await page.getByTestId('token-name').fill('Edit bay 2');
    await page.getByTestId('token-submit').click();
    const secret = page.getByTestId('new-token-value');
    await secret.waitFor();
    const token = await secret.inputValue();
    expect(token.length).toBeGreaterThan(20);
    const row = page.locator('[data-testid="token-row"][data-name="Edit bay 2"]');
    expect(await textOf(row.getByTestId('token-last-used'))).toBe('never');
    await snap('tokens-created');

    const used = await fetch(url('/api/projects?limit=1'), { headers: { authorization: `Bearer ${token}` } });
    expect(used.status).toBe(200);
    await page.reload();
    expect(await textOf(row.getByTestId('token-last-used'))).not.toBe('never');
    expect(await page.getByTestId('new-token-value').count()).toBe(0);

    await row.getByTestId('token-revoke').click();
    await row.getByTestId('token-revoke-confirm').click();
    await page.getByTestId('token-empty').waitFor();
    const refused = await fetch(url('/api/projects?limit=1'), { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
  });

  it('changes the own password on the tokens page (current one needed) and stays signed in', async () => {
    const form = page.getByTestId('password-form');
    await page.getByTestId('password-current').fill('not my password');
    await page.getByTestId('password-new').fill(ADMIN_NEW_PASSWORD);
    await page.getByTestId('password-confirm').fill(ADMIN_NEW_PASSWORD);
    await page.getByTestId('password-submit').click();
    expect(await textOf(form.getByTestId('form-error'))).toContain('current password is not right');
    await page.getByTestId('password-current').fill(ADMIN.password);
    await page.getByTestId('password-submit').click();
    await page.getByTestId('password-changed').waitFor();
    await snap('password-changed');
    expect(await page.getByTestId('password-current').inputValue()).toBe('');
    const post = (password: string) =>
      fetch(url('/api/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: ADMIN.email, password }),
      });
    expect((await post(ADMIN.password)).status).toBe(401);
    expect((await post(ADMIN_NEW_PASSWORD)).status).toBe(200);
    // this browser's session was kept
    await page.reload();
    await page.getByTestId('password-form').waitFor();
    expect(await textOf(page.getByTestId('session-email'))).toBe(ADMIN.email);
  });

  it('shows the audit log to the admin', async () => {
    await page.getByTestId('nav-audit').click();
    await page.waitForURL('**/admin/audit');
    await page.getByTestId('audit-row').first().waitFor();
    const actions = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    for (const a of [
      'setup.first_admin',
      'project.create',
      'project.update',
      'project.archive',
      'user.create',
      'user.invite',
      'token.create',
      'token.revoke',
      'user.password_reset_create',
      'user.password_change',
    ]) {
      expect(actions).toContain(a);
    }
    await snap('audit');
    await page.getByTestId('audit-action-filter').selectOption('project.archive');
    await waitForAttributes(page, '[data-testid="audit-row"]', 'data-action', ['project.archive']);
  });

  it("lets a person choose a new password with the admin's reset link, once", async () => {
    await page.goto(resetLink);
    await page.waitForURL('**/reset-password?token=*');
    await page.getByTestId('reset-password').fill(EDITOR_RESET_PASSWORD);
    await page.getByTestId('reset-confirm').fill(EDITOR_RESET_PASSWORD);
    await snap('reset-password');
    await page.getByTestId('reset-submit').click();
    await page.waitForURL('**/projects');
    expect(await textOf(page.getByTestId('session-email'))).toBe(EDITOR.email);
    const again = await fetch(url('/api/auth/reset-password'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: new URL(resetLink).searchParams.get('token'), password: 'someone-else-2026' }),
    });
    expect(again.status).toBe(403);
    expect(((await again.json()) as { code: string }).code).toBe('RESET_INVALID');
  });

  it('signs out: the cookie is gone and pages lead to sign-in', async () => {
    await signOut();
    expect((await context.cookies(baseUrl)).find((c) => c.name === 'sv_session')).toBeUndefined();
    await page.goto(url('/admin/users'));
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.has('redirect'));
    expect(new URL(page.url()).searchParams.get('redirect')).toBe('/admin/users');
  });

  it('shows the server message for a wrong password', async () => {
    await signIn(EDITOR.email, 'not-the-password');
    expect(await textOf(page.getByTestId('form-error'))).toBe('E-mail or password is wrong');
    expect(path(page)).toBe('/login');
    expect(await page.getByTestId('login-password').inputValue()).toBe('');
    await snap('login-error');
  });

  it('gives an editor projects and project editing, but no admin pages or actions', async () => {
    await signIn(EDITOR.email, EDITOR_RESET_PASSWORD);
    // The redirect asked for an admin page: the editor lands on projects instead.
    await page.waitForURL('**/projects');
    expect(await textOf(page.getByTestId('session-email'))).toBe(EDITOR.email);
    expect(await textOf(page.getByTestId('session-role'))).toBe('editor');
    await page.getByTestId('project-row').first().waitFor();
    expect(await page.getByTestId('nav-users').count()).toBe(0);
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    await page.getByTestId('nav-tokens').waitFor();

    await page.goto(url('/admin/audit'));
    await page.waitForURL('**/projects');

    // Editors create projects (after a full page load: the CSRF token is recovered).
    await page.getByTestId('new-project').click();
    await page.getByTestId('project-name').fill('Editor Ingest Test');
    await page.getByTestId('project-submit').click();
    await page.locator('[data-testid="project-row"][data-slug="editor-ingest-test"]').waitFor();

    await page.getByTestId('project-table').getByRole('link', { name: 'Editor Ingest Test' }).click();
    await page.waitForURL('**/projects/editor-ingest-test');
    await page.getByTestId('edit-project').waitFor();
    expect(await page.getByTestId('archive-project').count()).toBe(0);
    await signOut();
  });

  it('lets an invited viewer choose a password and look, but not change anything', async () => {
    await page.goto(inviteLink);
    await page.waitForURL('**/accept-invite?token=*');
    await page.getByTestId('invite-password').fill(VIEWER.password);
    await page.getByTestId('invite-confirm').fill(VIEWER.password);
    await snap('accept-invite');
    await page.getByTestId('invite-submit').click();
    await page.waitForURL('**/projects');
    expect(await textOf(page.getByTestId('session-role'))).toBe('viewer');
    await page.getByTestId('project-row').first().waitFor();
    expect(await page.getByTestId('new-project').count()).toBe(0);

    await page.locator('[data-testid="project-row"] a').first().click();
    await page.getByTestId('project-title').waitFor();
    expect(await page.getByTestId('edit-project').count()).toBe(0);
    expect(await page.getByTestId('archive-project').count()).toBe(0);
    await snap('viewer-project');
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
