/**
 * Volume identity: a volume is known by the marker at its root and its device. Real disks: the
 * mirror is a loop-mounted ext4 image (another device than the primary's), moved away, lazily
 * unmounted (a pulled USB disk), given another volume's marker, or swapped for another disk; the
 * API with its in-process worker and the bundled CLI as a child process. Needs root (mount).
 *
 *   npx jest test/cli/volume-identity.spec.ts --maxWorkers=1
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { VolumesService } from '@studiovault/volumes';
import { ADMIN, sourceHashes, startIngestApp, tusUpload, uploadId, waitFor } from '../ingest/ingest-helpers';
import { buildCli, lastLine, type Run, startCli } from './cli-helpers';

const YEAR = '2026';
const MARKER = '.studiovault-volume.json';

interface Card {
  id: string;
  state: string;
  levels: Record<string, number>;
  verdict: { safe: boolean; reason: string };
  offlineVolumes: { role: string; rootPath: string; reason: string }[];
  unreachableFiles: number;
}
interface Volume {
  id: string;
  role: string;
  state: string;
  offlineReason: string | null;
  deviceId: string | null;
  rootPath: string;
}
interface CardFile {
  relativePath: string;
  protection: string;
  protectionReason: string | null;
  copies: { volume: string; state: string; error: string | null }[];
}

let work: string;
let cliPath: string;
const mounts: string[] = [];
const loops: string[] = [];

/** A fresh ext4 file system on a loop device of its own (its st_dev stays the same across remounts). */
function makeDisk(name: string): { dev: string; mnt: string } {
  const img = join(work, `${name}.img`);
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mkfs.ext4', ['-q', img]);
  const dev = execFileSync('losetup', ['--find', '--show', img]).toString().trim();
  loops.push(dev);
  const mnt = join(work, name);
  execFileSync('mkdir', ['-p', mnt]);
  mount(dev, mnt);
  return { dev, mnt };
}
function mount(dev: string, mnt: string): void {
  execFileSync('mount', [dev, mnt]);
  mounts.push(mnt);
}
function unmountLazily(mnt: string): void {
  execFileSync('umount', ['-l', mnt]);
  mounts.splice(mounts.lastIndexOf(mnt), 1);
}

/** One API instance with its worker, a project, an admin CLI login and the "two local copies" rule. */
async function startStudio(primary: string, mirror: string, env: Record<string, string>, project: string) {
  const t = await startIngestApp({ STUDIOVAULT_PRIMARY_ROOT: primary, STUDIOVAULT_MIRROR_ROOT: mirror, ...env });
  await t
    .http()
    .post('/api/projects')
    .auth(t.admin, { type: 'bearer' })
    .send({ name: project, slug: project, shootDate: `${YEAR}-05-01` })
    .expect(201);
  await t.http().put('/api/settings/safe-to-format').auth(t.admin, { type: 'bearer' }).send({ rule: 'two_local' }).expect(200);
  const home = await mkdtemp(join(work, 'home-'));
  const env2 = { HOME: home, STUDIOVAULT_CONFIG: join(home, 'config.json'), STUDIOVAULT_STATE_DIR: join(home, 'state') };
  const cli = (args: string[], input = ''): Promise<Run> => startCli(cliPath, args, env2, input).done;
  expect((await cli(['login', '--server', t.base, '--email', ADMIN.email, '--password-stdin'], `${ADMIN.password}\n`)).code).toBe(0);
  const api = {
    card: async (id: string): Promise<Card> => (await t.http().get(`/api/cards/${id}`).auth(t.admin, { type: 'bearer' }).expect(200)).body,
    files: async (id: string): Promise<CardFile[]> =>
      (await t.http().get(`/api/cards/${id}/files`).auth(t.admin, { type: 'bearer' }).expect(200)).body.items,
    volumes: async (): Promise<Volume[]> => (await t.http().get('/api/volumes').auth(t.admin, { type: 'bearer' }).expect(200)).body,
    mirror: async (): Promise<Volume> => (await api.volumes()).find((v) => v.role === 'mirror')!,
    announce: async (label: string, files: number): Promise<string> =>
      (await t.http().post(`/api/projects/${project}/cards`).auth(t.admin, { type: 'bearer' }).send({ label, files }).expect(201)).body.id,
    /** One file through tus and its seal, as the CLI does it. */
    upload: async (cardId: string, relativePath: string, data: Buffer) => {
      const { url } = await tusUpload({ base: t.base, token: t.admin, cardId, relativePath, data });
      return (
        await t
          .http()
          .post(`/api/uploads/${uploadId(url)}/seal`)
          .auth(t.admin, { type: 'bearer' })
          .send(sourceHashes(data))
          .expect(200)
      ).body as { storedPath: string };
    },
  };
  return { t, cli, api };
}

async function makeCard(name: string, files: Record<string, Buffer>): Promise<string> {
  const root = join(work, 'cards', name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Every file of a card, on both disks, byte for byte as on the card. */
async function expectOnBothDisks(roots: string[], project: string, label: string, files: Record<string, Buffer>): Promise<void> {
  for (const root of roots) {
    for (const [rel, data] of Object.entries(files)) {
      expect({ root, rel, same: (await readFile(join(root, YEAR, project, label, rel))).equals(data) }).toEqual({ root, rel, same: true });
    }
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sv-volume-identity-'));
  cliPath = buildCli(join(work, 'bin'));
}, 60_000);

afterAll(async () => {
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
  if (work) await rm(work, { recursive: true, force: true });
});

describe("a mirror folder moved away, and another volume's marker (30 s check at 1 s here)", () => {
  const P = 'moved';
  let studio: Awaited<ReturnType<typeof startStudio>>;
  let primary: string;
  let mirror: string;
  const OLD = { 'DCIM/IMG_0001.CR3': randomBytes(300_000), 'DCIM/IMG_0002.JPG': randomBytes(70_000) };
  const NEW = {
    'DCIM/IMG_0101.CR3': randomBytes(250_000),
    'DCIM/IMG_0102.CR3': randomBytes(90_000),
    'DCIM/IMG_0103.JPG': randomBytes(1234),
  };

  beforeAll(async () => {
    primary = await mkdtemp(join(work, 'primary-a-'));
    mirror = join(makeDisk('disk-a').mnt, 'studiovault-mirror'); // a folder on the second disk
    studio = await startStudio(primary, mirror, { STUDIOVAULT_VOLUME_CHECK_SECONDS: '1' }, P);
  }, 120_000);
  afterAll(async () => studio?.t.close());

  it('sets each volume up with a durable marker and records its device', async () => {
    const vols = await studio.api.volumes();
    for (const v of vols) {
      const marker = JSON.parse(await readFile(join(v.rootPath, MARKER), 'utf8'));
      expect(marker).toMatchObject({ format: 'studiovault-volume', volumeId: v.id, role: v.role });
      expect(marker.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(v).toMatchObject({ state: 'online', offlineReason: null, deviceId: String(statSync(v.rootPath).dev) });
    }
    expect(vols[0].deviceId).not.toBe(vols[1].deviceId);
  });

  it('moved away mid-ingest: nothing re-creates the folder, the mirror goes offline, no card is safe; moved back: caught up without a person', async () => {
    const old = await studio.cli(['ingest', await makeCard('OLD', OLD), '--project', P]);
    expect(lastLine(old.stdout)).toBe('SAFE TO FORMAT');
    const oldId = (await studio.t.http().get(`/api/projects/${P}/cards`).auth(studio.t.admin, { type: 'bearer' })).body[0].id;

    const id = await studio.api.announce('NEW', 3);
    const [first, ...rest] = Object.entries(NEW);
    await studio.api.upload(id, first[0], first[1]);
    await rename(mirror, `${mirror}-away`); // someone moves the mirror folder mid-ingest
    for (const [rel, data] of rest) await studio.api.upload(id, rel, data); // the rest lands on the primary
    expect(existsSync(mirror)).toBe(false); // never re-created: no copy went into a new, empty folder

    const m = await waitFor(studio.api.mirror, (v) => v.state === 'offline', 10_000);
    expect(m.offlineReason).toBe(`root missing at ${mirror}`);
    const card = await studio.api.card(id);
    expect(card.verdict).toEqual({
      safe: false,
      reason: expect.stringMatching(/^mirror volume offline \(root missing at .+\): 1 file\(s\) with a copy unreachable$/),
    });
    expect(card.offlineVolumes).toEqual([{ role: 'mirror', rootPath: mirror, reason: `root missing at ${mirror}` }]);
    // the older card's copies on the mirror are unreachable: not verified, and the files say why
    const older = await studio.api.card(oldId);
    expect(older.verdict.safe).toBe(false);
    expect(older).toMatchObject({ unreachableFiles: 2, levels: expect.objectContaining({ verified: 0, copied: 2 }) });
    for (const f of await studio.api.files(oldId)) {
      expect(f.protection).toBe('copied');
      expect(f.protectionReason).toBe(`copy unreachable: the mirror volume is offline (root missing at ${mirror})`);
      expect(f.copies.find((c) => c.volume === 'mirror')?.state).toBe('unreachable');
    }

    // The CLI names the offline volume while it waits, and in its verdict.
    const more = await makeCard('MORE', { 'DCIM/IMG_0201.JPG': randomBytes(5000) });
    const waiting = await studio.cli(['ingest', more, '--project', P, '--wait-timeout', '2']);
    expect(waiting.stderr + waiting.stdout).toContain(`waiting: mirror volume offline (root missing at ${mirror})`);
    expect(lastLine(waiting.stdout)).toMatch(/^NOT SAFE: mirror volume offline \(root missing at .+\)/);
    expect(waiting.code).toBe(1);

    await rename(`${mirror}-away`, mirror); // put back: the 30 s check (1 s here) finds it and catches up
    for (const c of [id, oldId])
      await waitFor(
        () => studio.api.card(c),
        (x) => x.verdict.safe,
        30_000,
      );
    expect((await studio.api.card(id)).verdict.reason).toBe('3 file(s) verified on two devices');
    expect((await studio.api.mirror()).state).toBe('online');
    await expectOnBothDisks([primary, mirror], P, 'NEW', NEW);
    await expectOnBothDisks([primary, mirror], P, 'OLD', OLD);
    const status = await studio.cli(['ingest', more, '--project', P]); // the same card again: nothing to send, verified
    expect(lastLine(status.stdout)).toBe('SAFE TO FORMAT');
  }, 120_000);

  it("another volume's marker at the root: offline, nothing written there; the right marker back: online", async () => {
    const own = await readFile(join(mirror, MARKER));
    await copyFile(join(primary, MARKER), join(mirror, MARKER)); // the primary's identity, on the mirror disk
    const m = await waitFor(studio.api.mirror, (v) => v.state === 'offline', 10_000);
    expect(m.offlineReason).toMatch(
      new RegExp(`^foreign marker at ${mirror}/${MARKER.replace('.', '\\.')}: it belongs to the primary volume `),
    );
    const id = await studio.api.announce('FOREIGN', 1);
    const data = randomBytes(10_000);
    await studio.api.upload(id, 'DCIM/F.JPG', data);
    expect(existsSync(join(mirror, YEAR, P, 'FOREIGN'))).toBe(false);
    expect((await studio.api.card(id)).verdict.reason).toMatch(/^mirror volume offline \(foreign marker at /);
    await writeFile(join(mirror, MARKER), own);
    await waitFor(
      () => studio.api.card(id),
      (x) => x.verdict.safe,
      30_000,
    );
    await expectOnBothDisks([primary, mirror], P, 'FOREIGN', { 'DCIM/F.JPG': data });
  }, 60_000);
});

describe('a USB mirror lazily unmounted, another disk at its mount point (no timer: checks on demand)', () => {
  const P = 'usb';
  let studio: Awaited<ReturnType<typeof startStudio>>;
  let primary: string;
  let disk: { dev: string; mnt: string };
  const D1 = { 'DCIM/A.CR3': randomBytes(120_000) };
  const D2 = { 'DCIM/B.CR3': randomBytes(80_000), 'DCIM/C.JPG': randomBytes(3000) };

  beforeAll(async () => {
    primary = await mkdtemp(join(work, 'primary-b-'));
    disk = makeDisk('usb'); // the mount point itself is the mirror root
    studio = await startStudio(primary, disk.mnt, { STUDIOVAULT_VOLUME_CHECK_SECONDS: '3600' }, P);
  }, 120_000);
  afterAll(async () => studio?.t.close());

  it('unmounted: nothing is written beneath the mount point; offline at once; remounted: `volumes check` brings it back and catches up', async () => {
    const d1 = await studio.api.announce('D1', 1);
    await studio.api.upload(d1, 'DCIM/A.CR3', D1['DCIM/A.CR3']);
    await waitFor(
      () => studio.api.card(d1),
      (x) => x.verdict.safe,
      30_000,
    );

    unmountLazily(disk.mnt); // the USB disk is pulled
    // POST /api/volumes/check finds it at once (no timer runs here)
    const checked: Volume[] = (await studio.t.http().post('/api/volumes/check').auth(studio.t.admin, { type: 'bearer' }).expect(200)).body;
    expect(checked.find((v) => v.role === 'mirror')).toMatchObject({
      state: 'offline',
      offlineReason: `marker missing at ${disk.mnt}/${MARKER}`,
    });
    const d2 = await studio.api.announce('D2', 2);
    for (const [rel, data] of Object.entries(D2)) await studio.api.upload(d2, rel, data);
    expect(await readdir(disk.mnt)).toEqual([]); // the system disk beneath the mount point got nothing
    expect((await studio.api.card(d1)).verdict).toEqual({
      safe: false,
      reason: `mirror volume offline (marker missing at ${disk.mnt}/${MARKER}): 1 file(s) with a copy unreachable`,
    });

    const cliCheck = await studio.cli(['volumes', 'check']);
    expect(cliCheck.code).toBe(1);
    expect(cliCheck.stdout).toContain(`mirror volume offline: marker missing at ${disk.mnt}/${MARKER}`);

    mount(disk.dev, disk.mnt); // plugged back in
    const back = await studio.cli(['volumes', 'check', '--json']);
    expect(back.code).toBe(0);
    expect((JSON.parse(back.stdout) as Volume[]).map((v) => [v.role, v.state])).toEqual([
      ['mirror', 'online'],
      ['primary', 'online'],
    ]);
    for (const c of [d1, d2])
      await waitFor(
        () => studio.api.card(c),
        (x) => x.verdict.safe,
        30_000,
      );
    await expectOnBothDisks([primary, disk.mnt], P, 'D1', D1);
    await expectOnBothDisks([primary, disk.mnt], P, 'D2', D2);
  }, 120_000);

  it('pulled mid-file: the next write fails with VOLUME_OFFLINE naming the mirror, the file completes on the primary, and is copied when the disk is back', async () => {
    const id = await studio.api.announce('D3', 1);
    const data = randomBytes(200_000);
    const partial = await tusUpload({
      base: studio.t.base,
      token: studio.t.admin,
      cardId: id,
      relativePath: 'DCIM/D.MP4',
      data,
      chunkSize: 32_768,
      stopAfter: 32_768,
    });
    unmountLazily(disk.mnt); // pulled while the file is half sent; nothing has checked the volumes since
    const err = await tusUpload({
      base: studio.t.base,
      token: studio.t.admin,
      cardId: id,
      relativePath: 'DCIM/D.MP4',
      data,
      chunkSize: 32_768,
      uploadUrl: partial.url,
    }).then(
      () => undefined,
      (e: { originalResponse?: { getStatus(): number; getBody(): string } }) => e,
    );
    expect(err?.originalResponse?.getStatus()).toBe(503);
    expect(JSON.parse(err!.originalResponse!.getBody())).toMatchObject({
      code: 'VOLUME_OFFLINE',
      message: `The mirror volume is offline: marker missing at ${disk.mnt}/${MARKER}`,
    });
    expect(await studio.api.mirror()).toMatchObject({ state: 'offline', offlineReason: `marker missing at ${disk.mnt}/${MARKER}` });
    // The upload goes on where it stopped, on the primary alone (the CLI retries the same way).
    await tusUpload({
      base: studio.t.base,
      token: studio.t.admin,
      cardId: id,
      relativePath: 'DCIM/D.MP4',
      data,
      chunkSize: 32_768,
      uploadUrl: partial.url,
    });
    await studio.t
      .http()
      .post(`/api/uploads/${uploadId(partial.url)}/seal`)
      .auth(studio.t.admin, { type: 'bearer' })
      .send(sourceHashes(data))
      .expect(200);
    expect(await readdir(disk.mnt)).toEqual([]);
    const files = await waitFor(
      () => studio.api.files(id),
      (f) => f[0]?.copies.some((c) => c.volume === 'primary' && c.state === 'verified'),
      30_000,
    );
    expect(files[0].copies.map((c) => [c.volume, c.state]).sort()).toEqual([
      ['mirror', 'missing'],
      ['primary', 'verified'],
    ]);
    expect((await studio.api.card(id)).verdict.safe).toBe(false);

    mount(disk.dev, disk.mnt);
    await studio.t.http().post('/api/volumes/check').auth(studio.t.admin, { type: 'bearer' }).expect(200);
    await waitFor(
      () => studio.api.card(id),
      (x) => x.verdict.safe,
      30_000,
    );
    await expectOnBothDisks([primary, disk.mnt], P, 'D3', { 'DCIM/D.MP4': data });
  }, 60_000);

  it('another disk carrying a copy of the marker: "device changed", offline; the right disk back: online', async () => {
    const marker = await readFile(join(disk.mnt, MARKER)); // the marker of the real disk…
    unmountLazily(disk.mnt);
    const other = makeDisk('other');
    await writeFile(join(other.mnt, MARKER), marker); // …copied onto another disk, mounted at the same place
    unmountLazily(other.mnt);
    mount(other.dev, disk.mnt);
    const checked: Volume[] = (await studio.t.http().post('/api/volumes/check').auth(studio.t.admin, { type: 'bearer' }).expect(200)).body;
    const m = checked.find((v) => v.role === 'mirror')!;
    expect(m.state).toBe('offline');
    expect(m.offlineReason).toBe(`device changed at ${disk.mnt} (set up on device ${m.deviceId}, now ${statSync(disk.mnt).dev})`);
    unmountLazily(disk.mnt);
    mount(disk.dev, disk.mnt);
    const again: Volume[] = (await studio.t.http().post('/api/volumes/check').auth(studio.t.admin, { type: 'bearer' }).expect(200)).body;
    expect(again.find((v) => v.role === 'mirror')!.state).toBe('online');
  }, 60_000);
});

describe('both volumes under one data folder, as the embedded default has them, and an upgrade from volumes without markers', () => {
  const P = 'upgrade';
  let studio: Awaited<ReturnType<typeof startStudio>>;
  let primary: string;
  let mirror: string;

  beforeAll(async () => {
    const data = await mkdtemp(join(work, 'data-'));
    primary = join(data, 'volumes', 'primary');
    mirror = join(data, 'volumes', 'mirror');
    studio = await startStudio(primary, mirror, { STUDIOVAULT_VOLUME_CHECK_SECONDS: '3600' }, P);
  }, 120_000);
  afterAll(async () => studio?.t.close());

  it('both roots on one device: set up, online and flagged "same device" (not offline)', async () => {
    const vols = await studio.api.volumes();
    expect(vols.map((v) => [v.role, v.state, (v as unknown as { sameDevice: boolean }).sameDevice])).toEqual([
      ['mirror', 'online', true],
      ['primary', 'online', true],
    ]);
    for (const v of vols) expect(existsSync(join(v.rootPath, MARKER))).toBe(true);
    const id = await studio.api.announce('U1', 1);
    await studio.api.upload(id, 'DCIM/U.JPG', randomBytes(4000));
    expect(
      (
        await waitFor(
          () => studio.api.card(id),
          (c) => c.verdict.reason.includes('same device'),
          30_000,
        )
      ).verdict.safe,
    ).toBe(false);
  }, 60_000);

  it('writes the marker of a volume registered without one when its root has the card layout; refuses a root with other files until an admin adopts it', async () => {
    const db = studio.t.app.get(DataSource);
    await db.query(`UPDATE storage_volumes SET marker_uuid = NULL`);
    for (const root of [primary, mirror]) await rm(join(root, MARKER));
    await writeFile(join(mirror, 'notes.txt'), 'not a StudioVault file');
    await studio.t.app.get(VolumesService).registerConfigured(); // what the first start after the upgrade does
    const [m, p] = await studio.api.volumes();
    expect(p).toMatchObject({ state: 'online', offlineReason: null });
    expect(JSON.parse(await readFile(join(primary, MARKER), 'utf8'))).toMatchObject({ role: 'primary', volumeId: p.id });
    expect(m).toMatchObject({
      state: 'offline',
      offlineReason: `root at ${mirror} holds files that are not a StudioVault volume's: adopt it if it is the right disk`,
    });
    expect(existsSync(join(mirror, MARKER))).toBe(false);

    const viewer = await studio.t.http().post('/api/volumes/adopt').send({ role: 'mirror' });
    expect(viewer.status).toBe(401);
    const adopted = await studio.cli(['volumes', 'adopt', 'mirror', '--json']);
    expect(adopted.code).toBe(0);
    expect((JSON.parse(adopted.stdout) as Volume[]).find((v) => v.role === 'mirror')).toMatchObject({
      state: 'online',
      offlineReason: null,
    });
    expect(JSON.parse(await readFile(join(mirror, MARKER), 'utf8'))).toMatchObject({ role: 'mirror', volumeId: m.id });
  }, 60_000);
});
