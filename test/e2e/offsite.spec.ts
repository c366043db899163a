/**
 * End-to-end: off-site backup in the portal. The built portal served by the real API process
 * (worker in process) with a fresh database, driven by Debian's Chromium.
 *
 *   npm run build:server && npm run build:web && npx jest test/e2e/offsite.spec.ts
 *
 * In order: a verified card made through the API; the admin adds a disk target in a temp folder
 * through the form and sees its connection checks; an S3 target whose endpoint does not answer is
 * refused with its checks and not saved; Test connection; Run now until the run completes; the
 * card's files counted off-site; disable, enable, delete refused; the schedule saved and wrong
 * values refused; a viewer sees the status block but not the admin page.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { createTestDatabase, readSetupCode, type TestDatabase } from '@studiovault/testing';
import { requireBuilt, startPortal, stopServer, textOf, waitForAttribute, waitForText as waitForTextWithin } from './e2e-helpers';
import { IngestClient, waitUntil } from './ingest-client';

const SHOTS_DIR = process.env.STUDIOVAULT_E2E_SCREENSHOTS;

const ADMIN = { name: 'Mara Studio', email: 'mara@studio.test', password: 'correct horse battery staple' };
const VIEWER = { name: 'Vera Viewer', email: 'vera@studio.test', password: 'viewer-password-2026' };
const SLUG = 'anna-ben-wedding';
const CARD: Record<string, Buffer> = {
  'DCIM/100CANON/IMG_0001.CR3': randomBytes(300_000),
  'DCIM/100CANON/IMG_0002.JPG': randomBytes(40_000),
};
const DISK_TARGET = 'USB rotation';
const S3_SECRET = 'never-shown-secret-key-0123456789';
const CHECK_NAMES = [
  'reachable',
  'credentials valid',
  'bucket exists',
  'versioning on',
  'Object Lock on',
  'can put object',
  'can set retention',
];

jest.setTimeout(60_000);

const waitForText = (locator: Locator, expected: string | RegExp, timeoutMs = 10_000) => waitForTextWithin(locator, expected, timeoutMs);

/** Each connection check as shown: "name: status". */
const checksShown = (list: Locator) =>
  list
    .getByTestId('preflight-check')
    .evaluateAll((els) =>
      els.map(
        (e) =>
          `${e.querySelector('[data-testid="check-name"]')!.textContent!.trim()}: ${e.querySelector('[data-testid="check-status"]')!.textContent!.trim()}`,
      ),
    );

describe('off-site backup in the web portal (built SPA, real API with its worker, Chromium)', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let mirror: string | undefined;
  let diskDir: string | undefined;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let baseUrl: string;
  let api: IngestClient;
  let cardId: string;
  const pageErrors: string[] = [];

  const url = (p: string) => `${baseUrl}${p}`;
  const targetRow = (name: string) => page.locator(`[data-testid="target-row"][data-name="${name}"]`);

  async function snap(name: string, on: Page = page) {
    if (SHOTS_DIR) await on.screenshot({ path: join(SHOTS_DIR, `offsite-${name}.png`), fullPage: true });
  }

  async function newPage(email: string, password: string): Promise<Page> {
    const context = await browser!.newContext({ locale: 'en-GB', timezoneId: 'Europe/Berlin', viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    const p = await context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    await p.goto(url('/login'));
    await p.getByTestId('login-email').fill(email);
    await p.getByTestId('login-password').fill(password);
    await p.getByTestId('login-submit').click();
    await p.waitForURL('**/projects');
    return p;
  }

  beforeAll(async () => {
    requireBuilt();
    db = await createTestDatabase('sv_e2e_offsite');
    dataDir = await mkdtemp(join(tmpdir(), 'sv-e2e-offsite-'));
    mirror = await mkdtemp('/dev/shm/sv-e2e-offsite-mirror-'); // tmpfs: a second device, so cards reach "verified"
    diskDir = await mkdtemp(join(tmpdir(), 'sv-e2e-offsite-usb-'));
    const portal = await startPortal({
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: join(dataDir, 'primary'),
      STUDIOVAULT_MIRROR_ROOT: mirror,
      STUDIOVAULT_DISK_TARGET_ROOTS: diskDir,
    });
    ({ server, browser, baseUrl } = portal);

    // The admin, a viewer, a project and one verified card: all through the API.
    const post = (path: string, body: unknown) =>
      fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/setup', { ...ADMIN, setupCode: await readSetupCode(dataDir!) })).status).toBe(200);
    const tokenRes = await post('/api/auth/token', { email: ADMIN.email, password: ADMIN.password, tokenName: 'Edit bay 1' });
    expect(tokenRes.status).toBe(200);
    api = new IngestClient(baseUrl, ((await tokenRes.json()) as { token: string }).token);
    expect((await api.json('POST', '/api/users', { ...VIEWER, role: 'viewer' })).status).toBe(201);
    expect((await api.json('POST', '/api/projects', { name: 'Anna & Ben — Wedding', slug: SLUG, type: 'wedding' })).status).toBe(201);
    cardId = (await api.announce(SLUG, { label: 'A001', files: 2 })).id;
    for (const [path, data] of Object.entries(CARD)) await api.send(cardId, path, data);
    await waitUntil(
      () => api.card(cardId),
      (c) => c.state === 'verified',
      30_000,
    );

    page = await newPage(ADMIN.email, ADMIN.password);
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stopServer(server);
    await db?.drop();
    for (const dir of [dataDir, mirror, diskDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('shows everyone the off-site status on the projects page, and the admin the Off-site page in the nav', async () => {
    const status = page.getByTestId('offsite-status');
    expect(await textOf(status.getByTestId('offsite-status-none'))).toContain('No off-site target yet');
    const pending = status.locator('[data-testid="offsite-level"][data-level="pending"]');
    expect(await textOf(pending.locator('dt'))).toBe('waiting to go off-site');
    expect(await textOf(pending.getByTestId('offsite-level-files'))).toBe('2 files');
    expect(await textOf(pending.getByTestId('offsite-level-bytes'))).toMatch(/^· 3\d\d KB$/);

    await page.getByTestId('nav-offsite').click();
    await page.waitForURL('**/admin/offsite');
    expect(await textOf(page.getByTestId('target-empty'))).toContain('No off-site target yet');
    expect(await textOf(page.getByTestId('run-empty'))).toBe('No off-site runs yet.');
  });

  it('adds a disk target in a temp folder through the form and shows every connection check', async () => {
    await page.getByTestId('add-target').click();
    const form = page.getByTestId('target-form');
    await form.getByTestId('target-name').fill(DISK_TARGET);
    await form.getByTestId('target-kind-disk').check();
    expect(await form.getByTestId('target-immutable').isChecked()).toBe(false); // a disk is not locked unless asked
    await form.getByTestId('target-path').fill(diskDir!);
    await form.getByTestId('target-rotates').check();
    await form.getByTestId('target-immutable').check();
    expect(await form.getByTestId('target-lock-GOVERNANCE').isChecked()).toBe(true);
    expect(await textOf(form.locator('.lock-modes'))).toContain('Nobody can delete a locked copy or shorten its lock');
    await form.getByTestId('target-submit').click();

    const saved = page.getByTestId('target-saved');
    expect(await textOf(saved)).toContain(`Added “${DISK_TARGET}”`);
    expect(await checksShown(saved)).toEqual(CHECK_NAMES.map((n) => `${n}: ok`));
    expect(await textOf(saved.locator('[data-check="reachable"] [data-testid="check-detail"]'))).toContain(diskDir!);
    expect(await page.getByTestId('target-form').count()).toBe(0);

    const row = targetRow(DISK_TARGET);
    expect(await textOf(row.getByTestId('target-kind'))).toBe('Disk');
    expect(await textOf(row.getByTestId('target-where'))).toBe(diskDir);
    expect(await textOf(row.getByTestId('target-lock'))).toBe('locked: governance · rotates off-site');
    expect(await textOf(row.getByTestId('target-health'))).toBe('ok');
    expect(await textOf(row.getByTestId('target-last-test'))).toBe('tested just now, all checks ok');
    expect(await textOf(row.getByTestId('target-last-run'))).toBe('never run');
    expect(await readdir(diskDir!)).toContain('studiovault-target.json');
    await snap('disk-added');
  });

  it('refuses an S3 target whose endpoint does not answer: the failing check is shown, nothing is saved', async () => {
    await page.getByTestId('add-target').click();
    const form = page.getByTestId('target-form');
    await form.getByTestId('target-name').fill('Nowhere S3');
    expect(await form.getByTestId('target-kind-s3').isChecked()).toBe(true);
    expect(await form.getByTestId('target-immutable').isChecked()).toBe(true); // S3: locked by default
    await form.getByTestId('target-endpoint').fill('http://127.0.0.1:9');
    expect(await form.getByTestId('target-path-style').isChecked()).toBe(true); // follows the endpoint
    await form.getByTestId('target-region').fill('us-east-1');
    await form.getByTestId('target-bucket').fill('studio-backup');
    await form.getByTestId('target-access-key-id').fill('AKIAE2ETEST0001');
    expect(await form.getByTestId('target-secret').getAttribute('type')).toBe('password');
    await form.getByTestId('target-secret').fill(S3_SECRET);
    await form.getByTestId('target-submit').click();

    const error = form.getByTestId('form-error');
    expect(await textOf(error)).toContain('Target "Nowhere S3" failed its connection test: reachable');
    const lines = await error.getByTestId('form-error-detail').allTextContents();
    expect(lines.map((l) => l.split(':')[0])).toEqual(CHECK_NAMES);
    expect(lines[0]).toMatch(/^reachable: failed/);
    expect(lines[1]).toMatch(/^credentials valid: skipped/);
    // The form stays (to fix the endpoint); the list still holds only the disk target; no secret anywhere.
    expect(await page.getByTestId('target-row').count()).toBe(1);
    expect(await page.content()).not.toContain(S3_SECRET);
    const listed = await api.json<{ name: string }[]>('GET', '/api/targets');
    expect(listed.body.map((t) => t.name)).toEqual([DISK_TARGET]);
    expect(JSON.stringify(listed.body)).not.toContain(S3_SECRET);
    await snap('s3-refused');
    await form.getByTestId('target-cancel').click();
    await form.waitFor({ state: 'detached' });
  });

  it('tests the connection of a saved target and lists each check by name', async () => {
    const row = targetRow(DISK_TARGET);
    await row.getByTestId('target-test').click();
    const result = page.getByTestId('target-test-result');
    expect(await textOf(result)).toContain('Connection test passed.');
    expect(await checksShown(result)).toEqual(CHECK_NAMES.map((n) => `${n}: ok`));
  });

  it('runs the target now: the run goes live and completes with the card’s files off-site', async () => {
    await targetRow(DISK_TARGET).getByTestId('target-run').click();
    expect(await textOf(page.getByTestId('run-notice'))).toMatch(new RegExp(`^Run started\\. ${DISK_TARGET}: (queued|running)$`));
    const run = page.getByTestId('run-row').first();
    expect(await run.getAttribute('data-target')).toBe(DISK_TARGET);
    expect(await textOf(run.getByTestId('run-trigger'))).toBe('by hand');
    await waitForAttribute(run, 'data-state', 'completed', 30_000);
    expect(await textOf(run.getByTestId('run-files'))).toBe('2');
    expect(await textOf(run.getByTestId('run-bytes'))).toMatch(/^3\d\d KB$/);
    expect(await textOf(run.getByTestId('run-errors'))).toBe('0');
    expect(await textOf(run.getByTestId('run-message'))).toContain('2 file(s) uploaded');
    await page.getByTestId('runs-live').waitFor({ state: 'detached' }); // settled: polling stops

    const row = targetRow(DISK_TARGET);
    await waitForText(row.getByTestId('target-run-state'), 'completed');
    expect(await textOf(row.getByTestId('target-run-summary'))).toMatch(/^2 files · 3\d\d KB · .*0 errors$/);
    await snap('run-completed');

    // Everyone's view: the files are off-site (a disk with emulated locks is not "immutable").
    await page.getByTestId('nav-projects').click();
    const status = page.getByTestId('offsite-status');
    await waitForText(status.locator('[data-level="offsite"] [data-testid="offsite-level-files"]'), '2 files');
    expect(await textOf(status.locator('[data-level="pending"] [data-testid="offsite-level-files"]'))).toBe('0 files');
    expect(await textOf(status.locator('[data-level="immutable"] [data-testid="offsite-level-files"]'))).toBe('0 files');
    const target = status.locator(`[data-testid="offsite-status-target"][data-name="${DISK_TARGET}"]`);
    expect(await textOf(target.getByTestId('offsite-status-health'))).toBe('ok');

    // The project and the card count them, with the levels in words.
    await page.goto(url(`/projects/${SLUG}`));
    expect(await textOf(page.getByTestId('cards-offsite'))).toBe('2 off-site');
    expect(await textOf(page.getByTestId('cards-immutable'))).toBe('0 immutable (locked)');
    const levels = await page
      .locator('[data-testid="card-row"][data-label="A001"] [data-testid="level-count"]')
      .evaluateAll((els) => els.map((e) => e.textContent!.replace(/\s+/g, ' ').trim()));
    expect(levels).toEqual(['2 off-site']);
    await page.goto(url(`/projects/${SLUG}/cards/${cardId}`));
    expect(await textOf(page.getByTestId('card-offsite-count'))).toBe('2');
    expect(await textOf(page.getByTestId('card-immutable-count'))).toBe('0');
    await snap('card');
  });

  it('edits the target (tested again), disables and enables it; deleting one that holds copies is refused', async () => {
    await page.goto(url('/admin/offsite'));
    const row = targetRow(DISK_TARGET);
    await row.getByTestId('target-edit').click();
    const form = page.getByTestId('target-form');
    expect(await form.getByTestId('target-name').inputValue()).toBe(DISK_TARGET);
    expect(await form.getByTestId('target-path').inputValue()).toBe(diskDir);
    expect(await form.getByTestId('target-kind-disk').isDisabled()).toBe(true);
    await form.getByTestId('target-lock-COMPLIANCE').check();
    await form.getByTestId('target-submit').click();
    expect(await textOf(page.getByTestId('target-saved'))).toContain(`Saved “${DISK_TARGET}”`);
    await waitForText(row.getByTestId('target-lock'), 'locked: compliance · rotates off-site');

    await row.getByTestId('target-toggle-enabled').click();
    await waitForAttribute(row, 'data-enabled', 'false', 10_000);
    expect(await row.getByTestId('target-run').isDisabled()).toBe(true);
    await row.getByTestId('target-toggle-enabled').click();
    await waitForAttribute(row, 'data-enabled', 'true', 10_000);

    await row.getByTestId('target-delete').click();
    await row.getByTestId('target-delete-confirm').click();
    expect(await textOf(page.locator('tr.row-error').getByTestId('form-error'))).toContain('disable it instead of deleting it');
    expect(await page.getByTestId('target-row').count()).toBe(1);
    expect(await row.getByTestId('target-delete').isVisible()).toBe(true); // asked once; not left armed
  });

  it('saves the schedule, window and bandwidth cap, and shows why a wrong value is refused', async () => {
    const form = page.getByTestId('backup-settings-form');
    await form.getByTestId('backup-schedule').fill('30 22 * * 1-5');
    await form.getByTestId('backup-timezone').fill('Europe/Berlin');
    await form.getByTestId('backup-window-end').fill('06:30');
    await form.getByTestId('backup-bandwidth').fill('50');
    await form.getByTestId('backup-settings-save').click();
    expect(await textOf(form.getByTestId('backup-settings-saved'))).toBe(
      'Saved. Nightly start 30 22 * * 1-5 (Europe/Berlin), pausing at 06:30, at most 50 MB/s.',
    );
    const settings = await api.json<Record<string, unknown>>('GET', '/api/backup/settings');
    expect(settings.body).toMatchObject({ schedule: '30 22 * * 1-5', timezone: 'Europe/Berlin', windowEnd: '06:30', bandwidthMBps: 50 });

    await form.getByTestId('backup-window-end').fill('25:00');
    await form.getByTestId('backup-settings-save').click();
    expect(await textOf(form.getByTestId('form-error'))).toContain('windowEnd: "HH:MM" (24 h) or null');

    await form.getByTestId('backup-window-end').fill('');
    await form.getByTestId('backup-schedule').fill('nope');
    await form.getByTestId('backup-settings-save').click();
    await waitForText(form.getByTestId('form-error'), 'schedule: a cron expression with 5 fields');
    // Nothing of the refused values was kept.
    expect((await api.json<Record<string, unknown>>('GET', '/api/backup/settings')).body).toMatchObject({
      schedule: '30 22 * * 1-5',
      windowEnd: '06:30',
    });
    await snap('settings');
  });

  it('shows a viewer the off-site status, but neither the Off-site page nor its nav link', async () => {
    const viewer = await newPage(VIEWER.email, VIEWER.password);
    const status = viewer.getByTestId('offsite-status');
    await waitForText(status.locator('[data-level="offsite"] [data-testid="offsite-level-files"]'), '2 files');
    const target = status.locator(`[data-testid="offsite-status-target"][data-name="${DISK_TARGET}"]`);
    expect(await textOf(target.getByTestId('offsite-status-health'))).toBe('ok');
    expect(await status.getByTestId('offsite-status-manage').count()).toBe(0);
    expect(await viewer.getByTestId('nav-offsite').count()).toBe(0);
    await snap('viewer-projects', viewer);

    await viewer.goto(url('/admin/offsite'));
    await viewer.waitForURL('**/projects');
    expect(await viewer.getByTestId('target-table').count()).toBe(0);
    await viewer.context().close();
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
