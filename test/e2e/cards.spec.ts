/**
 * End-to-end: cards in the portal. The built portal served by the real API process (worker in
 * process) with a fresh database, the primary volume under the temp folder (ext4) and the
 * mirror under /dev/shm (tmpfs: another device), driven by Debian's Chromium.
 *
 *   npm run build:server && npm run build:web && npx jest test/e2e
 *
 * In order: a card announced and filled over tus while the project page watches it live, the
 * safe-to-format rule changed in admin settings, the card page with its files and copies, a card
 * folder uploaded from the browser, a copy damaged on disk turning the card "at risk",
 * and keyset paging of a larger card.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createTestDatabase, readSetupCode, type TestDatabase } from '@studiovault/testing';
import { requireBuilt, startPortal, stopServer, textOf, waitForText as waitForTextWithin } from './e2e-helpers';
import { IngestClient, sourceHashes, waitUntil } from './ingest-client';

const SCREENSHOT = '/tmp/portal-card.png';
const SHOTS_DIR = process.env.STUDIOVAULT_E2E_SCREENSHOTS;

const ADMIN = { name: 'Mara Studio', email: 'mara@studio.test', password: 'correct horse battery staple' };
const SLUG = 'anna-ben-wedding';

const NFD_NAME = 'DCIM/100CANON/Cafe\u0301.JPG'; // as macOS sends it
const CARD_A: Record<string, Buffer> = {
  'DCIM/100CANON/IMG_0001.CR3': randomBytes(1024 * 1024 + 17),
  'DCIM/100CANON/IMG_0002.JPG': randomBytes(200_000),
  [NFD_NAME]: randomBytes(1000),
};
const DAMAGED = { path: 'DCIM/100CANON/IMG_0003.CR3', data: randomBytes(300_000) };

jest.setTimeout(90_000);

/** Cards change as the worker runs: give text a little longer than the portal spec does. */
const waitForText = (locator: Locator, expected: string | RegExp, timeoutMs = 10_000) => waitForTextWithin(locator, expected, timeoutMs);

/** Polls an attribute of the first match until it equals `expected`; returns what it saw on the way. */
async function waitForAttribute(locator: Locator, name: string, expected: string, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const value = (await locator
      .first()
      .getAttribute(name, { timeout: 1_000 })
      .catch(() => null)) as string | null;
    if (value !== null && seen[seen.length - 1] !== value) seen.push(value);
    if (value === expected) return seen;
    if (Date.now() > deadline) throw new Error(`Expected ${locator} [${name}] to become "${expected}", it went ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Studio {
  baseUrl: string;
  primary: string;
  mirror: string;
  api: IngestClient;
  page: Page;
  pageErrors: string[];
  stop(): Promise<void>;
}

/**
 * A fresh studio: its own database and volumes, the real server process from dist/ (worker in
 * process), the admin and a project made through the API, and the admin signed in in Chromium.
 * `mirrorOn`: 'other-device' puts the mirror under /dev/shm (tmpfs), 'same-device' beside the primary.
 */
async function startStudio(name: string, mirrorOn: 'other-device' | 'same-device'): Promise<Studio> {
  requireBuilt();
  const cleanup: (() => Promise<unknown>)[] = [];
  let serverOutput = () => '';
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await stopServer(server);
    if (process.env.STUDIOVAULT_E2E_SERVER_LOG) await writeFile(`${process.env.STUDIOVAULT_E2E_SERVER_LOG}.${name}`, serverOutput());
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const db: TestDatabase = await createTestDatabase(`sv_e2e_${name}`);
    cleanup.push(() => db.drop());
    const dataDir = await mkdtemp(join(tmpdir(), `sv-e2e-${name}-`));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const primary = join(dataDir, 'primary'); // ext4 here
    const mirror = mirrorOn === 'same-device' ? join(dataDir, 'mirror') : await mkdtemp('/dev/shm/sv-e2e-mirror-'); // tmpfs: a second device
    if (mirrorOn === 'other-device') cleanup.push(() => rm(mirror, { recursive: true, force: true }));
    const portal = await startPortal({
      DATABASE_URL: db.url,
      STUDIOVAULT_DATA_DIR: dataDir,
      STUDIOVAULT_PRIMARY_ROOT: primary,
      STUDIOVAULT_MIRROR_ROOT: mirror,
    });
    ({ server, browser } = portal);
    serverOutput = portal.output;
    const { baseUrl } = portal;

    // The admin, a token for the "workstation", and the project: all through the API.
    const post = (path: string, body: unknown) =>
      fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/setup', { ...ADMIN, setupCode: await readSetupCode(dataDir) })).status).toBe(200);
    const tokenRes = await post('/api/auth/token', { email: ADMIN.email, password: ADMIN.password, tokenName: 'Edit bay 1' });
    expect(tokenRes.status).toBe(200);
    const api = new IngestClient(baseUrl, ((await tokenRes.json()) as { token: string }).token);
    const project = await api.json('POST', '/api/projects', {
      name: 'Anna & Ben — Wedding',
      slug: SLUG,
      shootDate: '2026-09-12',
      type: 'wedding',
    });
    expect(project.status).toBe(201);

    const context: BrowserContext = await browser.newContext({
      locale: 'en-GB',
      timezoneId: 'Europe/Berlin',
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/login`);
    await page.getByTestId('login-email').fill(ADMIN.email);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL('**/projects');
    return { baseUrl, primary, mirror, api, page, pageErrors, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe('cards in the web portal (built SPA, real API with its worker, Chromium)', () => {
  let studio: Studio;
  let page: Page;
  let api: IngestClient;
  let mirror: string;
  let uploadDir: string | undefined;
  let cardA: string;

  const url = (p: string) => `${studio.baseUrl}${p}`;
  const cardRow = (label: string) => page.locator(`[data-testid="card-row"][data-label="${label}"]`);
  const fileRow = (path: string) => page.locator(`[data-testid="file-row"][data-path="${path}"]`);

  async function snap(name: string) {
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, `cards-${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    studio = await startStudio('cards', 'other-device');
    ({ page, api, mirror } = studio);
    uploadDir = await mkdtemp(join(tmpdir(), 'sv-e2e-upload-'));
  }, 60_000);

  afterAll(async () => {
    await studio?.stop();
    if (uploadDir) await rm(uploadDir, { recursive: true, force: true });
  }, 30_000);

  it('shows an empty project without cards', async () => {
    await page.goto(url(`/projects/${SLUG}`));
    expect(await textOf(page.getByTestId('cards-empty'))).toContain('No cards in this project yet');
    // Two devices: no same-device warning anywhere.
    expect(await page.getByTestId('same-device-banner').count()).toBe(0);
    await page.getByTestId('volume-summary').filter({ hasText: 'Volumes online' }).waitFor();
  });

  it('follows a card live while a workstation uploads it, until it is verified but not safe (no off-site target)', async () => {
    const bytes = Object.values(CARD_A).reduce((a, b) => a + b.length, 0);
    cardA = (
      await api.announce(SLUG, {
        label: 'A001',
        files: 3,
        bytes,
        cameraMake: 'Canon',
        cameraModel: 'Canon EOS R5',
        cameraSerial: '032021001234',
      })
    ).id;

    await page.reload();
    const row = cardRow('A001');
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('announced');
    expect(await textOf(row.getByTestId('card-camera'))).toBe('Canon EOS R5 · #032021001234');
    expect(await textOf(row.getByTestId('verdict'))).toBe('Not safe: no files recorded for this card yet');
    await page.getByTestId('cards-live').waitFor(); // announced: the page polls

    // The files arrive while the page is open; it updates on its own. Watch from before the first
    // file is sent, so the states on the way are seen however fast the server is.
    const watching = waitForAttribute(row, 'data-state', 'verified', 30_000);
    for (const [path, data] of Object.entries(CARD_A)) {
      expect((await api.send(cardA, path, data)).outcome).toBe('stored');
    }
    const states = await watching;
    expect(states[0]).toBe('announced');
    expect(states.length).toBeGreaterThan(1); // seen on the way, without a reload
    await waitForText(row.getByTestId('verdict'), 'Not safe: no off-site target');
    expect(await row.getByTestId('verdict').getAttribute('data-safe')).toBe('false');
    expect(await textOf(row.getByTestId('card-size'))).toMatch(/^3 files · 1\.\d MB$/);
    const levels = await row.getByTestId('level-count').evaluateAll((els) => els.map((e) => e.textContent!.replace(/\s+/g, ' ').trim()));
    expect(levels).toEqual(['3 verified']);
    expect(await row.getByTestId('protection-bar').locator('[role="img"]').getAttribute('aria-label')).toBe('Protection: 3 verified');
    expect(await row.getByTestId('same-device-note').count()).toBe(0);

    // Settled: polling stops.
    await page.getByTestId('cards-live').waitFor({ state: 'detached' });
    await snap('project-verified');
  });

  it('lets the admin change the safe-to-format rule; the card becomes safe to format', async () => {
    await page.getByTestId('nav-settings').click();
    await page.waitForURL('**/admin/settings');
    expect(await page.getByTestId('rule-two_local_and_offsite_started').isChecked()).toBe(true);
    expect(await page.getByTestId('rule-save').isDisabled()).toBe(true);
    expect(await textOf(page.getByTestId('override-two-devices'))).toContain('different devices');

    await page.getByTestId('rule-two_local').check();
    await page.getByTestId('rule-save').click();
    expect(await textOf(page.getByTestId('rule-saved'))).toContain('Two verified copies here');
    expect((await api.json<{ rule: string }>('GET', '/api/settings/safe-to-format')).body.rule).toBe('two_local');

    // The same-device override saves too (and is turned off again: these volumes are two devices).
    await page.getByTestId('override-allow').check();
    await page.getByTestId('override-save').click();
    expect(await textOf(page.getByTestId('override-saved'))).toContain('Two copies on one device now count');
    await page.getByTestId('override-allow').uncheck();
    await page.getByTestId('override-save').click();
    await waitForText(page.getByTestId('override-saved'), 'Only copies on two devices count');
    const vols = (await api.json<{ sameDeviceOverride: boolean }[]>('GET', '/api/volumes')).body;
    expect(vols.map((v) => v.sameDeviceOverride)).toEqual([false, false]);
    await snap('settings');

    await page.goto(url(`/projects/${SLUG}`));
    const row = cardRow('A001');
    await waitForText(row.getByTestId('verdict'), 'Safe to format');
    expect(await row.getByTestId('verdict').getAttribute('data-safe')).toBe('true');
    expect(await textOf(row.getByTestId('verdict-reason'))).toBe('3 file(s) verified on two devices');
  });

  it('shows the card page: verdict, counts, camera, every file with both copies verified', async () => {
    await cardRow('A001').getByTestId('card-link').click();
    await page.waitForURL(`**/projects/${SLUG}/cards/${cardA}`);
    expect(await textOf(page.getByTestId('card-title'))).toBe('Card A001 verified');
    expect(await textOf(page.getByTestId('verdict'))).toBe('Safe to format: 3 file(s) verified on two devices');
    expect(await textOf(page.getByTestId('card-camera'))).toBe('Canon EOS R5 · #032021001234');
    expect(await textOf(page.getByTestId('card-files'))).toBe('3');
    expect(await textOf(page.getByTestId('card-verified-count'))).toBe('3');
    expect(await textOf(page.getByTestId('card-risk-count'))).toBe('0');
    expect(await textOf(page.getByTestId('card-project-link'))).toBe('Anna & Ben — Wedding');

    await page.getByTestId('file-row').first().waitFor();
    const paths = await page.getByTestId('file-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-path')));
    expect([...paths].sort()).toEqual(Object.keys(CARD_A).sort());
    expect(paths).toContain(NFD_NAME); // stored and shown as the card gave it
    for (const [path, data] of Object.entries(CARD_A)) {
      const row = fileRow(path);
      expect(await row.getAttribute('data-protection')).toBe('verified');
      expect(await textOf(row.getByTestId('file-xxh64'))).toBe(sourceHashes(data).xxh64);
      const copies = await row
        .getByTestId('file-copy')
        .evaluateAll((els) =>
          els.map((e) => `${e.getAttribute('data-volume')}: ${e.querySelector('[data-testid="copy-state"]')!.textContent!.trim()}`),
        );
      // The primary is ext4: re-read from the device with O_DIRECT; tmpfs accepts O_DIRECT too.
      expect(copies.sort()).toEqual(['mirror: verified via O_DIRECT', 'primary: verified via O_DIRECT']);
    }
    expect(await textOf(page.getByTestId('file-range'))).toBe('3 of 3 files');
    expect(await page.getByTestId('files-more').count()).toBe(0);
    expect(await page.getByTestId('risk-callout').count()).toBe(0);

    await page.getByTestId('filter-unverified').check();
    expect(await textOf(page.getByTestId('file-empty'))).toBe('Every file loaded so far is verified.');
    await page.waitForURL((url) => url.searchParams.get('filter') === 'unverified'); // the router updates the URL after the render
    await page.getByTestId('filter-unverified').uncheck();
    await page.getByTestId('file-row').nth(2).waitFor();
  });

  it('a mirror moved away: "Check volumes now" shows it offline and why, the card is not safe and its copies unreachable; back: safe', async () => {
    await rename(mirror, `${mirror}-away`);
    await page.getByTestId('nav-settings').click();
    await page.waitForURL('**/admin/settings');
    await page.getByTestId('volumes-check').click();
    await waitForText(page.getByTestId('volume-mirror'), `root missing at ${mirror}`);
    expect(await textOf(page.getByTestId('volume-mirror').locator('.badge'))).toBe('offline');
    await snap('settings-volume-offline');
    await page.goto(url(`/projects/${SLUG}/cards/${cardA}`));
    await waitForText(
      page.getByTestId('verdict'),
      `Not safe: mirror volume offline (root missing at ${mirror}): 3 file(s) with a copy unreachable`,
    );
    const [path] = Object.keys(CARD_A);
    const row = fileRow(path!);
    expect(await row.getAttribute('data-protection')).toBe('copied');
    expect(await textOf(row.getByTestId('file-reason'))).toBe(`copy unreachable: the mirror volume is offline (root missing at ${mirror})`);
    const copies = await row
      .getByTestId('file-copy')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-volume')}: ${e.querySelector('[data-testid="copy-state"]')!.textContent!.trim()}`),
      );
    expect(copies.sort()).toEqual(['mirror: unreachable: its volume is offline', 'primary: verified via O_DIRECT']);
    await snap('card-copy-unreachable');

    await rename(`${mirror}-away`, mirror);
    await page.getByTestId('nav-settings').click();
    await page.waitForURL('**/admin/settings');
    await page.getByTestId('volumes-check').click();
    await waitForText(page.getByTestId('volume-mirror').locator('.badge'), 'online');
    expect(await page.getByTestId('volume-mirror').textContent()).not.toContain('root missing');
    await page.goto(url(`/projects/${SLUG}/cards/${cardA}`));
    await waitForText(page.getByTestId('verdict'), 'Safe to format: 3 file(s) verified on two devices');
  });

  it('uploads a card folder from the browser: hashed here, sent with tus, sealed, verified', async () => {
    const folder = join(uploadDir!, 'C002');
    const local: Record<string, Buffer> = {
      'DCIM/102CANON/IMG_0200.CR3': randomBytes(700_000),
      'DCIM/102CANON/IMG_0201.JPG': randomBytes(90_000),
      'PRIVATE/M4ROOT/CLIP/C0002.MP4': randomBytes(1_200_000),
    };
    for (const [p, d] of Object.entries(local)) {
      await mkdir(dirname(join(folder, p)), { recursive: true });
      await writeFile(join(folder, p), d);
    }
    await writeFile(join(folder, '.DS_Store'), 'Finder junk');

    await page.goto(url(`/projects/${SLUG}`));
    await page.getByTestId('upload-open').click();
    await page.getByTestId('upload-input').setInputFiles(folder);
    expect(await page.getByTestId('upload-label').inputValue()).toBe('C002');
    expect(await textOf(page.getByTestId('upload-summary'))).toMatch(/^3 files · 1\.9 MB · 1 skipped \(\.DS_Store \(OS junk\)\)$/);
    await page.getByTestId('upload-start').click();
    await page.getByTestId('upload-done').waitFor({ timeout: 30_000 });
    const statuses = await page.getByTestId('upload-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses).toEqual(['done', 'done', 'done']);
    const outcomes = await page
      .getByTestId('upload-file')
      .evaluateAll((els) => els.map((e) => e.querySelector('.upload__state')!.textContent!.trim()));
    expect(outcomes).toEqual(['done: stored, verifying', 'done: stored, verifying', 'done: stored, verifying']);

    const row = cardRow('C002');
    await waitForAttribute(row, 'data-state', 'verified', 30_000);
    await waitForText(row.getByTestId('verdict'), 'Safe to format: 3 file(s) verified on two devices');
    await snap('browser-upload');

    // What the browser hashed is what the server stored.
    await row.getByTestId('card-link').click();
    for (const [p, d] of Object.entries(local)) {
      expect(await textOf(fileRow(p).getByTestId('file-xxh64'))).toBe(sourceHashes(d).xxh64);
    }
    expect(await page.getByTestId('file-row').count()).toBe(3);
  });

  it('turns the card "at risk" when a copy is damaged on disk before verification, and points at the file', async () => {
    // A fourth file: the disk damages the mirror's bytes after they were written and hashed,
    // before the worker re-reads them.
    const uploadId = await api.upload(cardA, DAMAGED.path, DAMAGED.data);
    const staged = join(mirror, '.studiovault', 'staging', `${uploadId}.part`);
    const bytes = await readFile(staged);
    bytes[1234] ^= 0xff;
    await writeFile(staged, bytes);
    expect((await api.seal(uploadId, sourceHashes(DAMAGED.data))).outcome).toBe('stored');
    // The worker re-reads the new file; wait for its verdict on the server, then look at the page.
    const deadline = Date.now() + 60_000;
    let state = '';
    while (Date.now() < deadline && (state = (await api.card(cardA)).state) !== 'at_risk') await new Promise((r) => setTimeout(r, 250));
    expect(state).toBe('at_risk');

    await page.goto(url(`/projects/${SLUG}`));
    const row = cardRow('A001');
    await waitForAttribute(row, 'data-state', 'at_risk', 30_000);
    await waitForText(row.getByTestId('verdict'), 'Not safe: 1 file(s) at risk: a copy is damaged or missing');
    expect(await textOf(row.getByTestId('card-state'))).toBe('at risk');
    const levels = await row.getByTestId('level-count').evaluateAll((els) => els.map((e) => e.textContent!.replace(/\s+/g, ' ').trim()));
    expect(levels).toEqual(['3 verified', '1 at risk']);
    expect(await textOf(page.getByTestId('cards-summary'))).toContain('1 at risk');

    await row.getByTestId('card-link').click();
    await page.waitForURL(`**/cards/${cardA}`);
    expect(await textOf(page.getByTestId('verdict'))).toBe('Not safe: 1 file(s) at risk: a copy is damaged or missing');
    const callout = page.getByTestId('risk-callout');
    expect(await textOf(callout)).toContain('1 file at risk');
    expect(await textOf(callout)).toContain(DAMAGED.path);
    // Damaged or missing copies: repair from a good copy (not "ingest again").
    expect(await textOf(callout)).toContain('A copy is damaged (its bytes differ from the hash taken from the card) or missing');
    expect(await textOf(callout)).toContain('repaired from a good copy');
    expect(await textOf(callout)).not.toMatch(/ingest it again/i);

    const bad = fileRow(DAMAGED.path);
    expect(await bad.getAttribute('data-protection')).toBe('at_risk');
    expect(await bad.getAttribute('class')).toContain('row-risk');
    expect(await textOf(bad.getByTestId('file-protection'))).toBe('at risk');
    const expected = sourceHashes(DAMAGED.data).xxh64;
    expect(await textOf(bad.getByTestId('file-reason'))).toContain('mirror copy does not match');
    const mirrorCopy = bad.locator('[data-testid="file-copy"][data-volume="mirror"]');
    expect(await mirrorCopy.getAttribute('data-state')).toBe('mismatch');
    const detail = await textOf(mirrorCopy.getByTestId('copy-detail'));
    expect(detail).toMatch(new RegExp(`^read back xxh64 [0-9a-f]{16}, expected ${expected}$`));
    expect(detail).not.toContain(`read back xxh64 ${expected}`);
    expect(await bad.locator('[data-testid="file-copy"][data-volume="primary"]').getAttribute('data-state')).toBe('verified');

    // The filter leaves only what is not verified: the damaged file.
    await page.getByTestId('filter-unverified').check();
    await waitForText(page.getByTestId('file-range'), '1 file not verified among the first 4 of 4');
    const paths = await page.getByTestId('file-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-path')));
    expect(paths).toEqual([DAMAGED.path]);
    await page.getByTestId('filter-unverified').uncheck();
    await page.getByTestId('file-row').nth(3).waitFor();

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('pages a large card with keyset paging ("Load more")', async () => {
    const files = Array.from(
      { length: 105 },
      (_, i) => [`DCIM/101CANON/IMG_${String(i + 1).padStart(4, '0')}.JPG`, randomBytes(256 + i)] as const,
    );
    const card = await api.announce(SLUG, { label: 'B001', files: files.length, bytes: files.reduce((a, [, d]) => a + d.length, 0) });
    for (let i = 0; i < files.length; i += 8) {
      await Promise.all(files.slice(i, i + 8).map(([p, d]) => api.send(card.id, p, d)));
    }
    // No need to wait for the read-back (the worker verifies about one file a second per job
    // slot): paging does not depend on it, and the page keeps polling meanwhile.
    expect((await api.card(card.id)).levels).toMatchObject({ uploading: 0 });

    await page.goto(url(`/projects/${SLUG}/cards/${card.id}`));
    await page.getByTestId('file-row').nth(99).waitFor();
    expect(await page.getByTestId('file-row').count()).toBe(100);
    expect(await textOf(page.getByTestId('file-range'))).toBe('100 of 105 files');
    await page.getByTestId('files-more').click();
    await page.getByTestId('file-row').nth(104).waitFor();
    const paths = await page.getByTestId('file-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-path')));
    expect(paths).toEqual(files.map(([p]) => p)); // in path order, none skipped or repeated
    expect(await page.getByTestId('files-more').count()).toBe(0);
    expect(await textOf(page.getByTestId('file-range'))).toBe('105 of 105 files');
  }, 60_000);

  it('raised no uncaught errors in the page', () => {
    expect(studio.pageErrors).toEqual([]);
  });
});

describe('cards when primary and mirror share a device (Chromium)', () => {
  let studio: Studio;
  let page: Page;
  let api: IngestClient;
  const url = (p: string) => `${studio.baseUrl}${p}`;
  const cardRow = (label: string) => page.locator(`[data-testid="card-row"][data-label="${label}"]`);

  beforeAll(async () => {
    studio = await startStudio('samedev', 'same-device');
    ({ page, api } = studio);
  }, 60_000);
  afterAll(() => studio?.stop(), 30_000);

  /** Ingests a one-file card and waits until the worker has re-read both copies. */
  async function ingestOne(label: string): Promise<string> {
    const data = randomBytes(50_000);
    const card = await api.announce(SLUG, { label, files: 1, bytes: data.length });
    expect((await api.send(card.id, 'DCIM/100CANON/IMG_0001.CR3', data)).outcome).toBe('stored');
    await waitUntil(
      () => api.json<{ items: { copies: { state: string }[] }[] }>('GET', `/api/cards/${card.id}/files`),
      (r) => r.body.items.length === 1 && r.body.items[0]!.copies.every((c) => c.state === 'verified'),
    );
    return card.id;
  }

  it('warns on every card that two copies on one device are not two media, and stops polling', async () => {
    const id = await ingestOne('S001');
    await page.goto(url(`/projects/${SLUG}`));
    const row = cardRow('S001');
    await waitForText(row.getByTestId('verdict'), 'Not safe: both volumes are on the same device: not two media');
    const note = row.getByTestId('same-device-note');
    expect(await note.getAttribute('data-override')).toBe('false');
    expect(await textOf(note)).toContain('Primary and mirror are on the same device: not two media');
    expect(await textOf(page.getByTestId('same-device-banner'))).toContain('not two media');
    // Its files stay "copied" for good on one device: nothing left to poll for.
    await page.getByTestId('cards-live').waitFor({ state: 'detached' });

    await row.getByTestId('card-link').click();
    await page.waitForURL(`**/cards/${id}`);
    expect(await textOf(page.getByTestId('file-protection'))).toBe('copied');
    expect(await textOf(page.getByTestId('file-reason'))).toBe('both copies on one device');
    expect(await textOf(page.getByTestId('same-device-note'))).toContain('not two media');
  });

  it('lets the admin accept one device; cards verified then are safe, with the override shown as a warning', async () => {
    await page.getByTestId('nav-settings').click();
    await page.waitForURL('**/admin/settings');
    expect(await textOf(page.getByTestId('override-same-device'))).toContain('same device');
    await page.getByTestId('rule-two_local').check();
    await page.getByTestId('rule-save').click();
    await page.getByTestId('rule-saved').waitFor();
    await page.getByTestId('override-allow').check();
    await page.getByTestId('override-save').click();
    expect(await textOf(page.getByTestId('override-saved'))).toContain('Two copies on one device now count');
    await waitForText(page.getByTestId('same-device-banner'), 'An admin accepted this');

    await ingestOne('S002');
    await page.goto(url(`/projects/${SLUG}`));
    const row = cardRow('S002');
    await waitForText(row.getByTestId('verdict'), 'Safe to format: 1 file(s) verified on two copies on one device (admin override)');
    const note = row.getByTestId('same-device-note');
    expect(await note.getAttribute('data-override')).toBe('true');
    expect(await textOf(note)).toContain('Two copies on one device (admin override)');
    expect(await cardRow('S001').getByTestId('same-device-note').getAttribute('data-override')).toBe('true');
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, 'cards-same-device.png'), fullPage: true });
  });

  it('raised no uncaught errors in the page', () => {
    expect(studio.pageErrors).toEqual([]);
  });
});
