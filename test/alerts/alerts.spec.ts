/**
 * Alerts and drive reminders, for real: the API with its in-process worker, a real SMTP server
 * (smtp-server with STARTTLS on a self-signed certificate and AUTH), a real HTTP receiver that
 * checks the HMAC signature, volumes in folders, and a removable disk target on a loop-mounted
 * ext4 image that is unplugged (umount -l) and plugged in again. Needs root (mount).
 *
 *   npx jest test/alerts/alerts.spec.ts --maxWorkers=1
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { AlertsService } from '@studiovault/alerts';
import { buildCli, json, startCli, type Run } from '../cli/cli-helpers';
import { ADMIN, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor, type IngestApp } from '../ingest/ingest-helpers';

interface Mail {
  subject: string;
  text: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
}
interface Hook {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { event: string; summary: string; text: string; link: string | null; problem?: { key: string; kind: string } };
  signatureOk: boolean;
}

const SECRET = 'a-webhook-secret-of-the-studio';
const SMTP_USER = 'alerts@studio.test';
const SMTP_PASS = 'smtp-pa55-word';
const P = 'alerts-wedding';

let work: string;
let t: IngestApp;
let smtp: SMTPServer;
let smtpPort: number;
let hooks: Server;
let hookUrl: string;
let hookFailures = 0;
const mails: Mail[] = [];
const received: Hook[] = [];
const mounts: string[] = [];
const loops: string[] = [];
let primary: string;
let mirror: string;

const auth = () => ({ type: 'bearer' as const });
const get = async (path: string) => (await t.http().get(path).auth(t.admin, auth()).expect(200)).body;
const check = async () =>
  (await t.http().post('/api/alerts/check').auth(t.admin, auth()).expect(200)).body as { raised: string[]; cleared: string[] };
const checkVolumes = () => t.http().post('/api/volumes/check').auth(t.admin, auth()).expect(200);
/** Runs passes until one held the lock (a cron pass may hold it a moment) and returns what it did. */
async function pass(): Promise<{ raised: string[]; cleared: string[] }> {
  return waitFor(check, (r) => (r as { open?: number }).open !== -1, 15_000);
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) in a header. */
function decodeHeader(v: string): string {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?(.*?)\?=/gi, (_, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function mailsAbout(text: string): Mail[] {
  return mails.filter((m) => m.subject.includes(text) || m.text.includes(text));
}
function hooksFor(key: string, event?: string): Hook[] {
  return received.filter((h) => h.body.problem?.key === key && (!event || h.body.event === event));
}

async function startSmtp(): Promise<void> {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(work, 'smtp.key'),
      '-out',
      join(work, 'smtp.crt'),
    ],
    { stdio: 'ignore' },
  );
  smtp = new SMTPServer({
    key: await readFile(join(work, 'smtp.key')),
    cert: await readFile(join(work, 'smtp.crt')),
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH only after STARTTLS (the default): a password never crosses the wire in clear.
    onAuth(a, _session, cb) {
      if (a.username === SMTP_USER && a.password === SMTP_PASS) cb(null, { user: a.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const [head, ...body] = raw.split(/\r?\n\r?\n/);
        const subject = decodeHeader(/^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1].replace(/\r?\n[ \t]/g, ' ') ?? '');
        const text = body
          .join('\n\n')
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
        mails.push({
          subject,
          text: Buffer.from(text, 'latin1').toString('utf8'),
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
        });
        cb();
      });
    },
    logger: false,
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
}

async function startHooks(): Promise<void> {
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hookFailures > 0) {
        hookFailures--;
        res.writeHead(503).end('receiver down');
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
      received.push({ headers: req.headers, raw, body: JSON.parse(raw), signatureOk: req.headers['x-studiovault-signature'] === expected });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks/T0KEN-in-path`;
}

function makeDisk(name: string): { dev: string; mnt: string } {
  const img = join(work, `${name}.img`);
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mkfs.ext4', ['-q', img]);
  const dev = execFileSync('losetup', ['--find', '--show', img]).toString().trim();
  loops.push(dev);
  const mnt = join(work, 'drives', name);
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', [dev, mnt]);
  mounts.push(mnt);
  return { dev, mnt };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-alerts-'));
  await startSmtp();
  await startHooks();
  primary = join(work, 'primary');
  mirror = join(work, 'mirror');
  await mkdir(join(work, 'drives'));
  t = await startIngestApp({
    STUDIOVAULT_PRIMARY_ROOT: primary,
    STUDIOVAULT_MIRROR_ROOT: mirror,
    STUDIOVAULT_DISK_TARGET_ROOTS: join(work, 'drives'),
    STUDIOVAULT_PUBLIC_URL: 'https://nas.studio.test:3210',
    // The periodic passes stay out of the way: the test runs each pass itself.
    STUDIOVAULT_ALERT_CHECK_SECONDS: '3600',
    STUDIOVAULT_VOLUME_CHECK_SECONDS: '3600',
  });
  await t.http().put('/api/volumes/same-device-override').auth(t.admin, auth()).send({ allow: true }).expect(200);
  await t.http().put('/api/settings/safe-to-format').auth(t.admin, auth()).send({ rule: 'two_local' }).expect(200);
  // This machine's disk may have little free space: low space is tested on its own below.
  await t.http().put('/api/alerts/settings').auth(t.admin, auth()).send({ lowSpaceGb: 0 }).expect(200);
  await t.http().post('/api/projects').auth(t.admin, auth()).send({ name: P, slug: P, shootDate: '2026-05-01' }).expect(201);
}, 120_000);

afterAll(async () => {
  await t?.close();
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // already gone
    }
  }
  for (const l of loops) {
    try {
      execFileSync('losetup', ['-d', l]);
    } catch {
      // already detached
    }
  }
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  await new Promise((r) => hooks?.close(r));
  if (work) await rm(work, { recursive: true, force: true });
});

async function ingest(label: string, files: Record<string, Buffer>): Promise<string> {
  const id = (
    await t
      .http()
      .post(`/api/projects/${P}/cards`)
      .auth(t.admin, auth())
      .send({ label, files: Object.keys(files).length })
      .expect(201)
  ).body.id as string;
  for (const [rel, data] of Object.entries(files)) {
    const { url } = await tusUpload({ base: t.base, token: t.admin, cardId: id, relativePath: rel, data });
    await t
      .http()
      .post(`/api/uploads/${uploadId(url)}/seal`)
      .auth(t.admin, auth())
      .send(sourceHashes(data))
      .expect(200);
  }
  await waitFor(
    () => get(`/api/cards/${id}`),
    (c) => c.state === 'verified',
    30_000,
  );
  return id;
}

describe('channels', () => {
  it('adds an e-mail and a webhook channel; lists them without any secret; the test sends over STARTTLS with AUTH', async () => {
    const smtpUrl = `smtp://${encodeURIComponent(SMTP_USER)}:${SMTP_PASS}@127.0.0.1:${smtpPort}/?requireTLS=true&tls.rejectUnauthorized=false`;
    const email = await t
      .http()
      .post('/api/alerts/channels')
      .auth(t.admin, auth())
      .send({ name: 'office', kind: 'email', smtpUrl, from: 'StudioVault <nas@studio.test>', to: ['ada@studio.test', 'bob@studio.test'] })
      .expect(201);
    expect(email.body.channel).toMatchObject({ name: 'office', kind: 'email', smtpHost: '127.0.0.1', smtpPort, smtpUser: SMTP_USER });
    const hook = await t
      .http()
      .post('/api/alerts/channels')
      .auth(t.admin, auth())
      .send({ name: 'chat', kind: 'webhook', url: hookUrl, secret: SECRET })
      .expect(201);
    expect(hook.body).toMatchObject({ secret: null, channel: { host: new URL(hookUrl).origin, format: 'json' } });

    const list = await t.http().get('/api/alerts/channels').auth(t.admin, auth()).expect(200);
    expect(list.body.map((c: { name: string }) => c.name)).toEqual(['chat', 'office']);
    for (const secret of [SMTP_PASS, SECRET, 'T0KEN-in-path']) expect(list.text).not.toContain(secret);
    await t.http().post('/api/alerts/channels').auth(t.admin, auth()).send({ name: 'Office', kind: 'webhook', url: hookUrl }).expect(409);
    await t
      .http()
      .post('/api/alerts/channels')
      .auth(t.admin, auth())
      .send({ name: 'bad', kind: 'email', smtpUrl: 'http://x', to: [] })
      .expect(400);

    const r = await t.http().post('/api/alerts/channels/office/test').auth(t.admin, auth()).expect(200);
    expect(r.body).toEqual({ ok: true, error: null });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ user: SMTP_USER, secure: true, to: ['ada@studio.test', 'bob@studio.test'] });
    expect(mails[0].subject).toContain('Test alert to channel "office"');
    await t.http().post('/api/alerts/channels/chat/test').auth(t.admin, auth()).expect(200, { ok: true, error: null });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ signatureOk: true, body: { event: 'test' } });
    expect(received[0].headers['x-studiovault-timestamp']).toMatch(/^\d{10}$/);
  });

  it('a wrong SMTP password is reported by the test and kept on the channel, without the password', async () => {
    const url = `smtp://${encodeURIComponent(SMTP_USER)}:wrong-secret-pw@127.0.0.1:${smtpPort}/?tls.rejectUnauthorized=false`;
    await t
      .http()
      .post('/api/alerts/channels')
      .auth(t.admin, auth())
      .send({ name: 'broken', kind: 'email', smtpUrl: url, from: 'nas@studio.test', to: ['ada@studio.test'] })
      .expect(201);
    const r = await t.http().post('/api/alerts/channels/broken/test').auth(t.admin, auth()).expect(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.error).toMatch(/SMTP: .*Invalid username or password/);
    const broken = (await get('/api/alerts/channels')).find((c: { name: string }) => c.name === 'broken');
    expect(broken).toMatchObject({ failing: true, lastError: expect.stringMatching(/Invalid username or password/) });
    expect(JSON.stringify(broken)).not.toContain('wrong-secret-pw');
    await t.http().delete('/api/alerts/channels/broken').auth(t.admin, auth()).expect(204);
    await t.http().delete('/api/alerts/channels/broken').auth(t.admin, auth()).expect(404);
  });
});

describe('the CLI', () => {
  it('alerts add webhook/email, list, test, remove, with --json', async () => {
    const bin = await mkdtemp(join(work, 'bin-'));
    const cliPath = buildCli(bin);
    const home = await mkdtemp(join(work, 'home-'));
    const env = { HOME: home, STUDIOVAULT_CONFIG: join(home, 'config.json'), STUDIOVAULT_STATE_DIR: join(home, 'state') };
    const cli = (args: string[], input = ''): Promise<Run> => startCli(cliPath, args, env, input).done;
    expect((await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`)).code).toBe(0);
    const secretFile = join(home, 'hook-secret');
    await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });

    const added = await cli(['alerts', 'add', 'webhook', 'cli-hook', '--url', hookUrl, '--secret-file', secretFile, '--json']);
    expect(added.code).toBe(0);
    expect(json(added)).toMatchObject({ secret: null, channel: { name: 'cli-hook', kind: 'webhook', format: 'json' } });
    expect(added.stdout).not.toContain(SECRET);
    const smtpUrl = `smtp://${encodeURIComponent(SMTP_USER)}:${SMTP_PASS}@127.0.0.1:${smtpPort}/?tls.rejectUnauthorized=false`;
    const email = await cli([
      'alerts',
      'add',
      'email',
      'cli-mail',
      '--smtp-url',
      smtpUrl,
      '--from',
      'nas@studio.test',
      '--to',
      'ada@studio.test,bob@studio.test',
    ]);
    expect(email.code).toBe(0);
    expect(email.stdout).toContain('Added alert channel "cli-mail" (email): ada@studio.test, bob@studio.test via 127.0.0.1');

    const list = await cli(['alerts', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(json<{ name: string }[]>(list).map((c) => c.name)).toEqual(expect.arrayContaining(['cli-hook', 'cli-mail']));
    expect(list.stdout).not.toContain(SMTP_PASS);
    const human = await cli(['alerts', 'list']);
    expect(human.stdout).toMatch(/cli-mail +email +ada@studio.test, bob@studio.test via 127.0.0.1:\d+ +not used yet/);

    const before = received.length;
    const tested = await cli(['alerts', 'test', 'cli-hook']);
    expect(tested).toMatchObject({ code: 0, stdout: 'Sent a test alert to "cli-hook".\n' });
    expect(received.slice(before)).toEqual([expect.objectContaining({ signatureOk: true })]);
    const bad = await cli(['alerts', 'add', 'webhook', 'x', '--url', 'ftp://nope']);
    expect(bad.code).toBe(2);

    expect((await cli(['alerts', 'remove', 'cli-hook', '--json'])).code).toBe(0);
    expect((await cli(['alerts', 'remove', 'cli-mail'])).code).toBe(0);
    const gone = await cli(['alerts', 'test', 'cli-hook', '--json']);
    expect(gone.code).toBe(1);
    expect(json<{ error: { code: string } }>(gone).error.code).toBe('NOT_FOUND');
  }, 90_000);
});

describe('problems raise once and clear once', () => {
  it('the mirror moved away: one "started" e-mail and webhook naming the volume, nothing more on later passes, one "cleared" when back', async () => {
    await pass();
    const before = { mails: mails.length, hooks: received.length };
    const mirrorVol = (await get('/api/volumes')).find((v: { role: string }) => v.role === 'mirror');
    const key = `volume:${mirrorVol.id}:offline`;

    await rename(mirror, `${mirror}-away`);
    await checkVolumes();
    expect((await pass()).raised).toContain(key);
    const problems = await get('/api/problems');
    expect(problems).toEqual([
      expect.objectContaining({ key, kind: 'volume_offline', severity: 'critical', link: '/admin/settings', clearedAt: null }),
    ]);
    expect(problems[0].title).toBe(`The mirror volume is offline: root missing at ${mirror}`);

    const started = mailsAbout('The mirror volume is offline');
    expect(started).toHaveLength(1);
    expect(started[0].subject).toBe(`[StudioVault] Problem: The mirror volume is offline: root missing at ${mirror}`);
    expect(started[0].text).toContain(`Volume root: ${mirror}`);
    expect(started[0].text).toContain('Open: https://nas.studio.test:3210/admin/settings');
    expect(hooksFor(key)).toHaveLength(1);
    expect(hooksFor(key)[0]).toMatchObject({
      signatureOk: true,
      body: { event: 'problem.started', link: 'https://nas.studio.test:3210/admin/settings', problem: { kind: 'volume_offline' } },
    });

    // The next passes see the same problem: no repeat.
    await pass();
    await checkVolumes();
    await pass();
    expect(mailsAbout('The mirror volume is offline')).toHaveLength(1);
    expect(hooksFor(key)).toHaveLength(1);

    await rename(`${mirror}-away`, mirror);
    await checkVolumes();
    expect((await pass()).cleared).toContain(key);
    expect(await get('/api/problems')).toEqual([]);
    const cleared = mails.filter((m) => m.subject.startsWith('[StudioVault] Back online: The mirror volume'));
    expect(cleared).toHaveLength(1);
    expect(hooksFor(key, 'problem.cleared')).toHaveLength(1);
    expect(hooksFor(key)).toHaveLength(2);
    expect(mails.length - before.mails).toBe(2);
    expect(received.length - before.hooks).toBe(2);
    await pass();
    expect(mails.length - before.mails).toBe(2);
  });

  it('a copy marked Mismatch and the file at risk (as scrub does): one alert naming project, card and path; "healed" when fixed; heal failed without a good copy', async () => {
    const cardId = await ingest('A001', { 'DCIM/IMG_0001.CR3': randomBytes(40_000), 'DCIM/IMG_0002.CR3': randomBytes(30_000) });
    const ds = (await import('typeorm')).DataSource;
    const db = new ds({ type: 'postgres', url: t.db.url });
    await db.initialize();
    try {
      const [a] = await db.query(`SELECT id FROM assets WHERE card_id = $1 AND relative_path = 'DCIM/IMG_0002.CR3'`, [cardId]);
      await db.query(
        `UPDATE copies SET state = 'mismatch', error = 'scrub: sha256 differs' WHERE asset_id = $1 AND volume_id = (SELECT id FROM storage_volumes WHERE role = 'mirror')`,
        [a.id],
      );
      await db.query(`UPDATE assets SET protection = 'at_risk', protection_reason = 'mirror copy damaged (scrub)' WHERE id = $1`, [a.id]);
      const key = `card:${cardId}:copy_damaged`;
      expect((await pass()).raised).toEqual([key]);
      const [p] = await get('/api/problems');
      expect(p).toMatchObject({
        kind: 'copy_damaged',
        title: `Damaged copies of 1 file in card ${P}/A001`,
        link: `/projects/${P}/cards/${cardId}`,
        subject: { project: { slug: P }, card: { id: cardId, label: 'A001' } },
      });
      const mail = mailsAbout(`Damaged copies of 1 file in card ${P}/A001`);
      expect(mail).toHaveLength(1);
      expect(mail[0].text).toContain(`${P}/A001/DCIM/IMG_0002.CR3 — mirror copy damaged (scrub) [primary: verified, mirror: mismatch]`);
      expect(mail[0].text).toContain(`Open: https://nas.studio.test:3210/projects/${P}/cards/${cardId}`);
      expect(hooksFor(key)).toHaveLength(1);
      await pass();
      expect(mailsAbout(`card ${P}/A001`)).toHaveLength(1);

      // Healed (as self-heal does): the problem clears with one "Healed" alert.
      await db.query(`UPDATE copies SET state = 'verified', error = NULL WHERE asset_id = $1`, [a.id]);
      await db.query(`UPDATE assets SET protection = 'verified', protection_reason = NULL WHERE id = $1`, [a.id]);
      expect((await pass()).cleared).toEqual([key]);
      expect(mails.filter((m) => m.subject === `[StudioVault] Healed: Damaged copies of 1 file in card ${P}/A001`)).toHaveLength(1);
      expect(hooksFor(key, 'problem.cleared')).toHaveLength(1);

      // Both local copies bad and no off-site copy: heal failed.
      await db.query(`UPDATE copies SET state = 'mismatch' WHERE asset_id = $1`, [a.id]);
      await db.query(`UPDATE assets SET protection = 'at_risk', protection_reason = 'both copies damaged' WHERE id = $1`, [a.id]);
      expect((await pass()).raised).toEqual([`card:${cardId}:heal_failed`]);
      expect(mailsAbout('No good copy left of 1 file in card')).toHaveLength(1);
      await db.query(`UPDATE copies SET state = 'verified' WHERE asset_id = $1`, [a.id]);
      await db.query(`UPDATE assets SET protection = 'verified', protection_reason = NULL WHERE id = $1`, [a.id]);
      expect((await pass()).cleared).toEqual([`card:${cardId}:heal_failed`]);
    } finally {
      await db.destroy();
    }
  });

  it('a failed delivery is retried with backoff and shown on the channel until it goes through', async () => {
    const alerts = t.app.get(AlertsService);
    alerts.retryBaseMs = 200;
    hookFailures = 2;
    const before = received.length;
    await t.http().put('/api/alerts/settings').auth(t.admin, auth()).send({ lowSpaceGb: 1_000_000 }).expect(200);
    const raised = (await pass()).raised;
    expect(raised.filter((k) => k.endsWith(':low_space')).length).toBe(2);
    let chat = (await get('/api/alerts/channels')).find((c: { name: string }) => c.name === 'chat');
    expect(chat).toMatchObject({ failing: true, lastError: expect.stringMatching(/HTTP 503 receiver down/), pendingDeliveries: 2 });
    expect(chat.lastError).not.toContain('T0KEN');
    // The e-mail channel is not held back by the webhook's failure.
    expect(mailsAbout('volume is low on space')).toHaveLength(2);

    chat = await waitFor(
      async () => {
        await check();
        return (await get('/api/alerts/channels')).find((c: { name: string }) => c.name === 'chat');
      },
      (c) => c.pendingDeliveries === 0,
      20_000,
    );
    expect(chat).toMatchObject({ failing: false, failedDeliveries: 0 });
    const low = received.slice(before).filter((h) => h.body.problem?.kind === 'volume_low_space');
    expect(low).toHaveLength(2); // each delivered once, after the retries
    expect(low.every((h) => h.signatureOk && h.body.event === 'problem.started')).toBe(true);

    await t.http().put('/api/alerts/settings').auth(t.admin, auth()).send({ lowSpaceGb: 0 }).expect(200);
    expect((await pass()).cleared.filter((k) => k.endsWith(':low_space'))).toHaveLength(2);
    await waitFor(
      async () => {
        await check();
        return received.slice(before).filter((h) => h.body.event === 'problem.cleared').length;
      },
      (n) => n === 2,
      20_000,
    );
  });

  it('a digest channel gets one summary of the open problems, not each event', async () => {
    await t
      .http()
      .post('/api/alerts/channels')
      .auth(t.admin, auth())
      .send({ name: 'digest', kind: 'webhook', url: hookUrl, secret: SECRET, digest: true })
      .expect(201);
    const before = received.length;
    await pass();
    const digests = received.slice(before).filter((h) => h.body.event === 'digest');
    expect(digests).toHaveLength(1);
    expect(digests[0].body.summary).toMatch(/^\[StudioVault\] Daily digest/);
    await pass();
    expect(received.slice(before).filter((h) => h.body.event === 'digest')).toHaveLength(1);
    await t.http().delete('/api/alerts/channels/digest').auth(t.admin, auth()).expect(204);
  });

  it('problems need a signed-in user', async () => {
    await t.http().get('/api/problems').expect(401);
    await t.http().get('/api/alerts/channels').expect(401);
  });
});

describe('a removable disk target (the rotated USB drive)', () => {
  let drive: { dev: string; mnt: string };
  let targetId: string;
  const target = async () => get(`/api/targets/${targetId}`);

  it('is created with an identity marker in its folder', async () => {
    drive = makeDisk('usb-a');
    const r = await t
      .http()
      .post('/api/targets')
      .auth(t.admin, auth())
      .send({ name: 'USB rotate A', kind: 'disk', path: drive.mnt, removable: true, rotatesOffsite: true, immutable: false })
      .expect(201);
    targetId = r.body.target.id;
    expect(r.body.target).toMatchObject({ removable: true, drive: 'present', lastSeenAt: expect.any(String) });
    const marker = JSON.parse(await readFile(join(drive.mnt, '.studiovault-drive.json'), 'utf8'));
    expect(marker).toMatchObject({
      format: 'studiovault-drive',
      targetId,
      name: 'USB rotate A',
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await t.http().post('/api/backup/runs').auth(t.admin, auth()).send({ targetId }).expect(200);
    const x = await waitFor(target, (v) => v.lastRun?.state === 'completed', 30_000);
    expect(x.lastRun.files).toBeGreaterThanOrEqual(2);
  });

  it('unplugged: its run waits instead of failing, and no problem is raised', async () => {
    execFileSync('umount', ['-l', drive.mnt]);
    mounts.splice(mounts.indexOf(drive.mnt), 1);
    await ingest('B001', { 'DCIM/IMG_1001.CR3': randomBytes(50_000) });
    const x = await waitFor(target, (v) => v.lastRun?.state === 'paused', 30_000);
    expect(x).toMatchObject({ drive: 'away', health: 'ok' });
    expect(x.lastRun.message).toBe(`waiting for the drive "USB rotate A" to be plugged in (${drive.mnt})`);
    const r = await pass();
    expect(r.raised.filter((k) => k.startsWith(`target:${targetId}`))).toEqual([]);
  });

  it('not seen for longer than the reminder days: an alert says which drive to reconnect', async () => {
    const ds = (await import('typeorm')).DataSource;
    const db = new ds({ type: 'postgres', url: t.db.url });
    await db.initialize();
    try {
      await db.query(`UPDATE offsite_targets SET last_seen_at = now() - interval '31 days' WHERE id = $1`, [targetId]);
    } finally {
      await db.destroy();
    }
    const key = `target:${targetId}:reconnect`;
    expect((await pass()).raised).toEqual([key]);
    const mail = mailsAbout('Reconnect the drive "USB rotate A"');
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toMatch(
      /^\[StudioVault\] Warning: Reconnect the drive "USB rotate A": not seen for 31 days \(last seen \d{4}-\d\d-\d\d\)$/,
    );
    expect(mail[0].text).toContain(`Drive folder: ${drive.mnt}`);
    expect(hooksFor(key)).toHaveLength(1);
    await pass();
    expect(mailsAbout('Reconnect the drive')).toHaveLength(1);
  });

  it('plugged in again: seen by its marker, the waiting run catches up by itself, the reminder clears', async () => {
    execFileSync('mount', [drive.dev, drive.mnt]);
    mounts.push(drive.mnt);
    const r = await pass();
    expect(r.cleared).toEqual([`target:${targetId}:reconnect`]);
    expect(mails.filter((m) => m.subject.startsWith('[StudioVault] Drive seen again: Reconnect the drive "USB rotate A"'))).toHaveLength(1);
    const x = await waitFor(target, (v) => v.lastRun?.state === 'completed', 30_000);
    expect(x).toMatchObject({ drive: 'present' });
    expect(Date.now() - Date.parse(x.lastSeenAt)).toBeLessThan(60_000);
    expect(x.lastRun.files).toBeGreaterThanOrEqual(1);
  });

  it('another drive mounted at the same place is not the target: still away', async () => {
    execFileSync('umount', ['-l', drive.mnt]);
    mounts.splice(mounts.indexOf(drive.mnt), 1);
    const other = makeDisk('usb-b');
    execFileSync('umount', [other.mnt]);
    mounts.splice(mounts.indexOf(other.mnt), 1);
    execFileSync('mount', [other.dev, drive.mnt]);
    mounts.push(drive.mnt);
    expect((await target()).drive).toBe('away');
  });
});
