/**
 * End-to-end: restore drills, restores and retention in the portal. The built portal served by
 * the real API process (worker in process) with a fresh database, driven by Debian's Chromium.
 *
 *   npm run build:server && npm run build:web && npx jest test/e2e/recovery.spec.ts
 *
 * In order: the Drills page before any drill; a drill run by hand with no off-site target fails
 * and says why; a disk target gets a verified card (a RAW with its embedded preview, a JPEG, a
 * file only hashed) and a drill passes with zero errors, the opened files with their thumbnails;
 * the drill schedule is saved and a wrong one refused; the Restore page previews a card, offers
 * downloads, restores into a NAS folder (best copy, then from off-site) with the files verified
 * on disk, and refuses a folder that holds the files already or is not absolute; the Retention page
 * sets a RAW policy, refuses 40000 days, deletes the policy; a legal hold is refused without a
 * reason, set and lifted; an expiry preview shows nothing to remove and its confirmation completes;
 * a viewer sees the drills but neither Restore nor Retention; a drill names an off-site copy damaged on the disk target.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { createTestDatabase, readSetupCode, type TestDatabase } from '@studiovault/testing';
import { makeJpeg, makeTiffRaw } from '../recovery/fixtures';
import { requireBuilt, startPortal, stopServer, textOf, waitForAttribute, waitForText as waitForTextWithin } from './e2e-helpers';
import { IngestClient, waitUntil } from './ingest-client';

const SHOTS_DIR = process.env.STUDIOVAULT_E2E_SCREENSHOTS;

const ADMIN = { name: 'Mara Studio', email: 'mara@studio.test', password: 'correct horse battery staple' };
const VIEWER = { name: 'Vera Viewer', email: 'vera@studio.test', password: 'viewer-password-2026' };
const SLUG = 'anna-ben-wedding';
const PROJECT_NAME = 'Anna & Ben — Wedding';
/** A RAW the drill opens (its embedded preview), a JPEG it decodes, and a file it only hashes. */
const CARD: Record<string, Buffer> = {
  'DCIM/100CANON/IMG_0001.DNG': makeTiffRaw(150_000),
  'DCIM/100CANON/IMG_0002.JPG': makeJpeg(64, 48),
  'DCIM/100CANON/DATA_0003.BIN': randomBytes(120_000),
};
const DISK_TARGET = 'USB rotation';

jest.setTimeout(90_000);

const waitForText = (locator: Locator, expected: string | RegExp, timeoutMs = 10_000) => waitForTextWithin(locator, expected, timeoutMs);

describe('restore drills, restores and retention in the web portal (built SPA, real API with its worker, Chromium)', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let mirror: string | undefined;
  let diskDir: string | undefined;
  let restoreRoot: string | undefined;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let baseUrl: string;
  let api: IngestClient;
  const pageErrors: string[] = [];

  const url = (p: string) => `${baseUrl}${p}`;

  async function snap(name: string, on: Page = page) {
    if (SHOTS_DIR) await on.screenshot({ path: join(SHOTS_DIR, `recovery-${name}.png`), fullPage: true });
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

  async function cardIdOf(label: string): Promise<string> {
    const cards = await api.json<{ id: string; label: string }[]>('GET', `/api/projects/${SLUG}/cards`);
    return cards.body.find((c) => c.label === label)!.id;
  }

  beforeAll(async () => {
    requireBuilt();
    db = await createTestDatabase('sv_e2e_recovery');
    dataDir = await mkdtemp(join(tmpdir(), 'sv-e2e-recovery-'));
    mirror = await mkdtemp('/dev/shm/sv-e2e-recovery-mirror-'); // tmpfs: a second device, so cards reach "verified"
    diskDir = await mkdtemp(join(tmpdir(), 'sv-e2e-recovery-usb-'));
    restoreRoot = await mkdtemp(join(tmpdir(), 'sv-e2e-recovery-restores-'));
    const portal = await startPortal({
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: join(dataDir, 'primary'),
      STUDIOVAULT_MIRROR_ROOT: mirror,
      STUDIOVAULT_RESTORE_ROOTS: restoreRoot,
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
    expect((await api.json('POST', '/api/projects', { name: PROJECT_NAME, slug: SLUG, type: 'wedding' })).status).toBe(201);
    const cardId = (await api.announce(SLUG, { label: 'A001', files: Object.keys(CARD).length })).id;
    for (const [path, data] of Object.entries(CARD)) await api.send(cardId, path, data);
    await waitUntil(
      () => api.card(cardId),
      (c) => c.state === 'verified',
      30_000,
    );

    page = await newPage(ADMIN.email, ADMIN.password);
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stopServer(server);
    await db?.drop();
    for (const dir of [dataDir, mirror, diskDir, restoreRoot]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  // ---- drills ----------------------------------------------------------------------------------

  it('shows the Drills page in the nav with its empty history', async () => {
    await page.getByTestId('nav-drills').click();
    await page.waitForURL('**/drills');
    expect(await textOf(page.getByTestId('drill-empty'))).toContain('No restore drill yet.');
    expect(await page.getByTestId('drill-report').count()).toBe(0);
    expect(await textOf(page.getByTestId('drill-schedule-text'))).toMatch(
      /^Scheduled at 0 3 1 \* \* \(.+\), with 20 older files sampled and 10 files opened\.$/,
    );
    await snap('drills-empty');
  });

  it('runs a drill without any off-site target: it fails, and the verdict says why in red', async () => {
    await page.getByTestId('drill-run').click();
    const report = page.getByTestId('drill-report');
    await waitForAttribute(report, 'data-state', 'failed', 30_000);
    const verdict = report.getByTestId('drill-verdict');
    expect(await verdict.getAttribute('data-verdict')).toBe('failed');
    expect(await textOf(verdict.getByTestId('drill-verdict-text'))).toBe('1 error: the drill did not pass.');
    const errors = verdict.getByTestId('drill-error');
    expect(await errors.count()).toBe(1);
    expect(await errors.first().getAttribute('data-check')).toBe('target');
    expect(await textOf(errors.first())).toBe('target: no off-site target to drill');
    const row = page.getByTestId('drill-row').first();
    expect(await row.getAttribute('data-state')).toBe('failed'); // the row follows its report at once
    expect(await textOf(row.getByTestId('drill-trigger'))).toBe('by hand');
    expect(await textOf(row.getByTestId('drill-errors-toggle'))).toBe('1 error');
    await page.getByTestId('drills-live').waitFor({ state: 'detached' }); // settled: polling stops
    await snap('drill-failed');
  });

  it('runs a drill from a disk target holding the card: zero errors, the files opened with their thumbnails', async () => {
    // The off-site copy: a disk target (not locked) and a run that completes, through the API.
    const created = await api.json<{ target: { id: string } }>('POST', '/api/targets', {
      name: DISK_TARGET,
      kind: 'disk',
      path: diskDir,
      immutable: false,
      rotatesOffsite: true,
    });
    expect([200, 201]).toContain(created.status);
    expect([200, 201]).toContain((await api.json('POST', '/api/backup/runs', { targetId: created.body.target.id })).status);
    await waitUntil(
      () => api.json<{ state: string }[]>('GET', '/api/backup/runs?limit=1'),
      (r) => r.body[0]?.state === 'completed',
      30_000,
    );

    await page.getByTestId('drill-run').click();
    const report = page.getByTestId('drill-report');
    await waitForAttribute(report, 'data-state', 'passed', 45_000);
    expect(await report.getByTestId('drill-verdict').getAttribute('data-verdict')).toBe('passed');
    expect(await textOf(report.getByTestId('drill-verdict-text'))).toMatch(
      new RegExp(
        `^Zero errors: 3 file\\(s\\), .+ restored from "${DISK_TARGET}" and verified in [\\d.]+ s; 2 opened, no locks on this target\\.$`,
      ),
    );
    expect(await report.getByTestId('drill-error').count()).toBe(0);
    expect(await textOf(report.getByTestId('drill-files'))).toMatch(/^3 files · \d{3} KB$/);
    expect(await textOf(report.getByTestId('drill-project'))).toBe(SLUG);
    expect(await textOf(report.getByTestId('drill-locks'))).toBe('0');
    // A disk target sets no lock the key could be refused on: the report says it was not tried.
    expect(await textOf(report.getByTestId('drill-delete-refused'))).toBe('not tried (no locked version on the target)');

    // The RAW's embedded preview and the JPEG, decoded, with thumbnails the browser can draw; the .BIN is hashed only.
    const opened = report.getByTestId('drill-opened-file');
    expect(await opened.evaluateAll((els) => els.map((e) => [e.getAttribute('data-path'), e.getAttribute('data-ok')]))).toEqual([
      ['A001/DCIM/100CANON/IMG_0001.DNG', 'true'],
      ['A001/DCIM/100CANON/IMG_0002.JPG', 'true'],
    ]);
    expect(await textOf(opened.nth(0).getByTestId('drill-opened-detail'))).toBe('embedded preview 160×120 decoded');
    expect(await textOf(opened.nth(1).getByTestId('drill-opened-detail'))).toBe('JPEG 64×48 decoded');
    const thumbs = report.getByTestId('drill-thumbnail');
    expect(await thumbs.count()).toBe(2);
    expect(await thumbs.first().getAttribute('src')).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    // Drawn by the browser: each thumbnail decodes to its real size (loading="lazy": scrolled into view first).
    await thumbs.last().scrollIntoViewIfNeeded();
    const drawn = () =>
      thumbs.evaluateAll((els) =>
        els.map((e) => {
          const img = e as unknown as { naturalWidth: number; naturalHeight: number };
          return `${img.naturalWidth}×${img.naturalHeight}`;
        }),
      );
    expect(await waitUntil(drawn, (sizes) => !sizes.includes('0×0'), 5_000)).toEqual(['160×120', '64×48']);

    // The history: newest first, the failed one below.
    const rows = page.getByTestId('drill-row');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(['passed', 'failed']);
    expect(await textOf(rows.first().getByTestId('drill-target'))).toBe(DISK_TARGET);
    expect(await textOf(rows.first().getByTestId('drill-row-files'))).toBe('3');
    expect(await textOf(rows.first().getByTestId('drill-row-errors'))).toBe('0');
    await snap('drill-passed');

    // The older report can be shown again from its row.
    await rows.nth(1).getByTestId('drill-show').click();
    await waitForAttribute(page.getByTestId('drill-report'), 'data-state', 'failed');
    await rows.first().getByTestId('drill-show').click();
    await waitForAttribute(page.getByTestId('drill-report'), 'data-state', 'passed');

    // The disk copy is not locked: the files stay "off-site", they do not become "drilled".
    const files = await api.json<{ items: { protection: string }[] }>('GET', `/api/cards/${await cardIdOf('A001')}/files`);
    expect(files.body.items.map((f) => f.protection)).toEqual(['offsite', 'offsite', 'offsite']);
  });

  it('saves the drill schedule and shows why a wrong one is refused', async () => {
    const form = page.getByTestId('drill-settings-form');
    await form.getByTestId('drill-schedule').fill('every month');
    await form.getByTestId('drill-settings-save').click();
    expect(await textOf(form.getByTestId('form-error'))).toContain('schedule: a cron expression with 5 fields');

    await form.getByTestId('drill-schedule').fill('0 2 * * 0');
    await form.getByTestId('drill-timezone').fill('Europe/Berlin');
    await form.getByTestId('drill-sample-size').fill('5000');
    await form.getByTestId('drill-open-size').fill('4');
    await form.getByTestId('drill-settings-save').click();
    expect(await textOf(form.getByTestId('drill-settings-saved'))).toBe(
      'Saved. Drills run at 0 2 * * 0 (Europe/Berlin), sampling 5,000 older files and opening 4 files.',
    );
    await waitForText(page.getByTestId('drill-schedule-text'), 'Scheduled at 0 2 * * 0 (Europe/Berlin)');

    await form.getByTestId('drill-open-size').fill('5000');
    await form.getByTestId('drill-settings-save').click();
    expect(await textOf(form.getByTestId('form-error'))).toMatch(/openSize/);
    expect((await api.json<Record<string, unknown>>('GET', '/api/drills/settings')).body).toEqual({
      schedule: '0 2 * * 0',
      timezone: 'Europe/Berlin',
      sampleSize: 5000,
      openSize: 4,
    });
  });

  // ---- restore ---------------------------------------------------------------------------------

  it('previews a card on the Restore page, with a download link per file', async () => {
    await page.getByTestId('nav-restore').click();
    await page.waitForURL('**/restore');
    expect(await textOf(page.getByTestId('restore-empty'))).toBe('No restore into a folder yet.');
    await page.getByTestId('restore-project').selectOption(SLUG);
    await page.locator('[data-testid="restore-card"] option[value="A001"]').waitFor({ state: 'attached' });
    await page.getByTestId('restore-card').selectOption('A001');
    await page.getByTestId('restore-preview').click();

    const plan = page.getByTestId('restore-plan');
    expect(await textOf(plan.getByTestId('restore-plan-summary'))).toMatch(/^3 files · \d{3} KB$/);
    expect(await plan.getByTestId('restore-plan-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual([
      'DCIM/100CANON/DATA_0003.BIN',
      'DCIM/100CANON/IMG_0001.DNG',
      'DCIM/100CANON/IMG_0002.JPG',
    ]);
    const link = plan.locator('[data-testid="restore-plan-file"][data-path="DCIM/100CANON/IMG_0002.JPG"] [data-testid="restore-download"]');
    expect(await link.getAttribute('download')).toBe('IMG_0002.JPG');
    expect(await link.getAttribute('href')).toMatch(/^\/api\/assets\/\d+\/content$/);

    // A glob narrows the plan; one that matches nothing says so.
    await page.getByTestId('restore-path').fill('**/*.JPG');
    await page.getByTestId('restore-preview').click();
    expect(await textOf(plan.getByTestId('restore-plan-summary'))).toMatch(/^1 file · \d+(\.\d)? KB$/);
    await page.getByTestId('restore-path').fill('**/*.CR3');
    await page.getByTestId('restore-preview').click();
    expect(await textOf(page.getByTestId('restore-select-form').getByTestId('form-error'))).toBe(
      `Nothing to restore in "${SLUG}" (card A001, paths matching **/*.CR3)`,
    );
    expect(await page.getByTestId('restore-plan').count()).toBe(0);
    await page.getByTestId('restore-path').fill('');
    await page.getByTestId('restore-preview').click();
    await waitForText(page.getByTestId('restore-plan-summary'), '3 files');
    await snap('restore-plan');
  });

  it('downloads a file of the plan with the session cookie, byte for byte', async () => {
    const link = page.locator('[data-testid="restore-plan-file"][data-path="DCIM/100CANON/IMG_0002.JPG"] [data-testid="restore-download"]');
    const href = (await link.getAttribute('href'))!;
    const res = await page.request.get(url(href));
    expect(res.status()).toBe(200);
    expect(Buffer.from(await res.body()).equals(CARD['DCIM/100CANON/IMG_0002.JPG'])).toBe(true);
  });

  it('restores the card into a NAS folder and watches it complete, every file verified on disk', async () => {
    const dest = join(restoreRoot!, 'first');
    const form = page.getByTestId('restore-folder-form');
    expect(await form.getByTestId('restore-source-best').isChecked()).toBe(true);
    expect(await textOf(form.getByTestId('restore-start'))).toBe('Restore 3 files');

    await form.getByTestId('restore-destination-input').fill('relative/folder');
    await form.getByTestId('restore-start').click();
    expect(await textOf(form.getByTestId('form-error'))).toContain('Restore destination must be an absolute folder: relative/folder');

    await form.getByTestId('restore-destination-input').fill(dest);
    await form.getByTestId('restore-start').click();
    const progress = page.getByTestId('restore-progress');
    await waitForAttribute(progress, 'data-state', 'completed', 30_000);
    expect(await textOf(progress.getByTestId('restore-summary'))).toBe(
      '3 restored, 3 verified, 0 failed. Every file’s SHA-256 matched the catalog as it was written.',
    );
    expect(await textOf(progress.getByTestId('restore-files'))).toBe('3 of 3 files');
    expect(await textOf(progress.getByTestId('restore-destination'))).toBe(dest);
    for (const [path, data] of Object.entries(CARD)) expect((await readFile(join(dest, 'A001', path))).equals(data)).toBe(true);

    const row = page.getByTestId('restore-row').first();
    await waitForAttribute(row, 'data-state', 'completed');
    expect(await textOf(row.getByTestId('restore-row-counts'))).toBe('3 · 3 · 0');
    await snap('restore-completed');

    // Again into the same folder: refused before anything is written.
    await form.getByTestId('restore-start').click();
    const error = form.getByTestId('form-error');
    expect(await textOf(error)).toContain(`3 file(s) exist already in ${dest} and would not be overwritten`);
    expect(await textOf(error)).toContain('Nothing was written.');
    expect(await page.getByTestId('restore-row').count()).toBe(1);
    await snap('restore-exists');
  });

  it('restores from the off-site copy alone when told to', async () => {
    const dest = join(restoreRoot!, 'from-offsite');
    const form = page.getByTestId('restore-folder-form');
    await form.getByTestId('restore-source-offsite').check();
    await form.getByTestId('restore-destination-input').fill(dest);
    await form.getByTestId('restore-start').click();
    const progress = page.getByTestId('restore-progress');
    await waitForText(progress.getByTestId('restore-destination'), dest);
    await waitForAttribute(progress, 'data-state', 'completed', 30_000);
    expect(await textOf(progress.getByTestId('restore-summary'))).toMatch(/^3 restored, 3 verified, 0 failed\./);
    expect(await textOf(progress)).toContain('from the off-site');
    for (const [path, data] of Object.entries(CARD)) expect((await readFile(join(dest, 'A001', path))).equals(data)).toBe(true);
    expect(await page.getByTestId('restore-row').count()).toBe(2);
  });

  // ---- retention -------------------------------------------------------------------------------

  it('sets a RAW retention policy of 400 days, and refuses 40000 days with the reason', async () => {
    await page.getByTestId('nav-retention').click();
    await page.waitForURL('**/admin/retention');
    const raw = page.locator('[data-testid="policy-default"][data-class="raw"]');
    expect(await textOf(raw.getByTestId('policy-default-lock'))).toBe('365 days (default, the target’s lock mode)');
    expect(await page.getByTestId('policy-default').count()).toBe(6);

    await raw.getByTestId('policy-set').click();
    const form = page.getByTestId('policy-form');
    expect(await form.getAttribute('data-class')).toBe('raw');
    expect(await form.getByTestId('policy-lock-days').inputValue()).toBe('365');
    expect(await textOf(form)).toContain('Lengthening extends existing locks; shortening only affects new uploads.');
    await form.getByTestId('policy-lock-days').fill('400');
    await form.getByTestId('policy-version-days').fill('400');
    await form.getByTestId('policy-save').click();
    expect(await textOf(page.getByTestId('policy-saved'))).toBe('Saved RAW: locked 400 days. Existing locks are being extended to match.');
    const row = page.locator('[data-testid="policy-row"][data-class="raw"][data-project-type="all"]');
    expect(await textOf(row.getByTestId('policy-lock'))).toBe('400 days governance');
    expect(await textOf(row.getByTestId('policy-local'))).toBe('forever');
    await snap('retention-saved');

    await row.getByTestId('policy-edit').click();
    await form.getByTestId('policy-lock-days').fill('40000');
    await form.getByTestId('policy-version-days').fill('40000');
    await form.getByTestId('policy-save').click();
    const error = form.getByTestId('form-error');
    expect(await textOf(error.locator('.form-error__message'))).toBe('Invalid retention policy');
    expect(await error.getByTestId('form-error-detail').allTextContents()).toEqual([
      'lockDays: at most 36500 days (100 years)',
      'versionKeepDays: at most 36500 days (100 years)',
    ]);
    await snap('retention-refused');
    await form.getByTestId('policy-cancel').click();
    const policies = await api.json<{ policies: { fileClass: string; lockDays: number }[] }>('GET', '/api/retention/policies');
    expect(policies.body.policies.map((p) => `${p.fileClass}:${p.lockDays}`)).toEqual(['raw:400']);

    // Deleting it brings the default back.
    await row.getByTestId('policy-delete').click();
    await row.getByTestId('policy-delete-confirm').click();
    await page.locator('[data-testid="policy-default"][data-class="raw"]').waitFor();
    expect((await api.json<{ policies: unknown[] }>('GET', '/api/retention/policies')).body.policies).toEqual([]);
  });

  it('refuses a legal hold without a reason, sets one with a reason and lifts it', async () => {
    const row = page.locator(`[data-testid="hold-row"][data-slug="${SLUG}"]`);
    expect(await row.getAttribute('data-hold')).toBe('false');
    await row.getByTestId('hold-set').click();
    expect(await textOf(page.locator('tr.row-error').getByTestId('form-error'))).toContain('A legal hold needs a reason');
    expect(await row.getAttribute('data-hold')).toBe('false');

    await row.getByTestId('hold-reason').fill('client dispute, case 2026-114');
    await row.getByTestId('hold-set').click();
    await waitForAttribute(row, 'data-hold', 'true');
    expect(await textOf(row.getByTestId('hold-state'))).toBe('on hold');
    expect(await textOf(row.getByTestId('hold-reason-text'))).toBe('client dispute, case 2026-114');
    expect((await api.json<{ legalHold: boolean }>('GET', `/api/projects/${SLUG}`)).body.legalHold).toBe(true);
    await snap('legal-hold');

    await row.getByTestId('hold-lift').click();
    await waitForAttribute(row, 'data-hold', 'false');
    expect((await api.json<{ legalHold: boolean }>('GET', `/api/projects/${SLUG}`)).body.legalHold).toBe(false);
  });

  it('previews expiry (nothing may go) and confirms it only on the second click', async () => {
    const section = page.getByTestId('expiry');
    expect(await section.getByTestId('expiry-confirm').count()).toBe(0); // no confirming before a preview
    await section.getByTestId('expiry-preview').click();
    const result = section.getByTestId('expiry-preview-result');
    expect(await result.getAttribute('data-items')).toBe('0');
    expect(await textOf(result.getByTestId('expiry-local'))).toBe('0 files · 0 B');
    expect(await textOf(result.getByTestId('expiry-offsite'))).toBe('0 versions · 0 B');
    expect(await textOf(result.getByTestId('expiry-nothing'))).toContain('Nothing may expire now');

    await result.getByTestId('expiry-confirm').click();
    const box = result.getByTestId('expiry-confirm-box');
    expect(await textOf(box)).toContain('This removes 0 copies on the NAS and 0 off-site versions (0 B). It cannot be undone.');
    await box.getByTestId('expiry-confirm-yes').click();
    const done = result.getByTestId('expiry-done');
    expect(await textOf(done)).toBe('Done: 0 copies removed from the NAS, 0 off-site versions deleted, 0 refused.');
    expect(await result.getByTestId('expiry-confirm').count()).toBe(0);
    await snap('expiry-done');
  });

  it('shows a viewer the drills, but neither Restore nor Retention', async () => {
    const viewer = await newPage(VIEWER.email, VIEWER.password);
    expect(await viewer.getByTestId('nav-restore').count()).toBe(0);
    expect(await viewer.getByTestId('nav-retention').count()).toBe(0);
    await viewer.getByTestId('nav-drills').click();
    await viewer.waitForURL('**/drills');
    const report = viewer.getByTestId('drill-report');
    await waitForAttribute(report, 'data-state', 'passed');
    expect(await textOf(report.getByTestId('drill-verdict-text'))).toMatch(/^Zero errors: 3 file\(s\)/);
    expect(await viewer.getByTestId('drill-row').count()).toBe(2);
    expect(await viewer.getByTestId('drill-run').count()).toBe(0);
    expect(await viewer.getByTestId('drill-settings-form').count()).toBe(0);
    await snap('viewer-drills', viewer);

    for (const path of ['/restore', '/admin/retention']) {
      await viewer.goto(url(path));
      await viewer.waitForURL('**/projects');
    }
    await viewer.context().close();
  });

  it('names the damaged file in red when an off-site copy no longer matches its hash', async () => {
    // Damage the off-site copy of the .BIN on the disk target (same size, other bytes).
    const damaged: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.endsWith('.data') && (await stat(full)).size === CARD['DCIM/100CANON/DATA_0003.BIN'].length) damaged.push(full);
      }
    };
    await walk(diskDir!);
    expect(damaged).toHaveLength(1);
    await chmod(damaged[0], 0o644);
    await writeFile(damaged[0], randomBytes(CARD['DCIM/100CANON/DATA_0003.BIN'].length));

    await page.goto(url('/drills'));
    await page.getByTestId('drill-run').click();
    const report = page.getByTestId('drill-report');
    await waitForAttribute(report, 'data-state', 'failed', 45_000);
    const verdict = report.getByTestId('drill-verdict');
    expect(await verdict.getAttribute('data-verdict')).toBe('failed');
    const path = `${SLUG}/A001/DCIM/100CANON/DATA_0003.BIN`;
    expect(await textOf(verdict.getByTestId('drill-verdict-text'))).toBe('1 error: the drill did not pass.');
    const errors = verdict.getByTestId('drill-error');
    expect(await errors.count()).toBe(1);
    expect(await errors.first().getAttribute('data-check')).toBe('hash');
    expect(await errors.first().getAttribute('data-kind')).toBe('damaged_copy');
    expect(await textOf(report.getByTestId('drill-error-advice'))).toContain('damaged copy: The off-site copy differs from the hash');
    expect(await textOf(errors.first().getByTestId('drill-error-message'))).toMatch(
      /^the off-site copy on "[^"]+" is damaged: content does not match the catalog: got 120000 bytes, sha256 [0-9a-f]{64}; expected 120000 bytes, sha256 [0-9a-f]{64}$/,
    );
    expect(await textOf(errors.first().getByTestId('drill-error-path'))).toBe(path);
    // The two files that are fine were still restored, verified and opened.
    expect(await textOf(report.getByTestId('drill-files'))).toMatch(/^2 files · /);
    expect(await report.getByTestId('drill-opened-file').count()).toBe(2);
    const rows = page.getByTestId('drill-row');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(['failed', 'passed', 'failed']);
    await snap('drill-damaged');
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
