import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPermanent } from '../errors';
import type { OffsiteTarget } from '../target';
import { describeTargetContract, type ContractHarness } from '../testing/contract-suite';
import { DiskTarget } from './disk.driver';

async function diskHarness(): Promise<ContractHarness> {
  const base = await mkdtemp(join(tmpdir(), 'sv-disk-target-'));
  const roots = new Map<OffsiteTarget, string>();
  let n = 0;
  return {
    async fresh(options) {
      const root = join(base, `target-${++n}`);
      await DiskTarget.initialize(root, options);
      const t = new DiskTarget({ root });
      roots.set(t, root);
      return t;
    },
    reopen(target) {
      return new DiskTarget({ root: roots.get(target)! });
    },
    missingBucket() {
      // a mounted, empty drive: the folder is there, the target is not
      const root = join(base, `empty-${++n}`);
      mkdirSync(root, { recursive: true });
      return new DiskTarget({ root });
    },
    unreachable() {
      return new DiskTarget({ root: join(base, 'drive-not-mounted') });
    },
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}

describeTargetContract('local disk', diskHarness, { credentials: false });

describe('DiskTarget on the disk', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'sv-disk-layout-'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const body = Buffer.from('RAW bytes of DSC_0001');
  const sha = createHash('sha256').update(body).digest('hex');

  it('keeps a layout a person can restore from: <key>.versions/<version>.data beside its .json', async () => {
    const root = join(base, 'layout');
    await DiskTarget.initialize(root, { objectLock: true });
    const t = new DiskTarget({ root, rotatesOffsite: true });
    expect(t.capabilities).toMatchObject({ kind: 'disk', objectLock: 'emulated', rotatesOffsite: true });
    const put = await t.put('2026/wedding/A001/DSC_0001.ARW', body, {
      size: body.length,
      sha256: sha,
      lock: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 3_600_000) },
    });

    const dir = join(root, 'objects', '2026', 'wedding', 'A001', 'DSC_0001.ARW.versions');
    const names = (await readdir(dir)).sort();
    expect(names).toEqual([
      `${put.versionId}.data`,
      `${put.versionId}.json`,
      expect.stringMatching(new RegExp(`^${put.versionId}\\.retention\\.COMPLIANCE\\.\\d{8}T\\d{6}\\.\\d{3}Z$`)),
    ]);
    expect(await readFile(join(dir, `${put.versionId}.data`))).toEqual(body);
    expect(JSON.parse(await readFile(join(dir, `${put.versionId}.json`), 'utf8'))).toMatchObject({ size: body.length, sha256: sha });
    expect(await readFile(join(root, 'README.txt'), 'utf8')).toContain('restored without StudioVault');
    expect(await readdir(join(root, 'tmp'))).toEqual([]); // nothing left half-written
  });

  it('ignores leftovers of a crash: a .data without its .json is not a version', async () => {
    const root = join(base, 'crash');
    await DiskTarget.initialize(root, { objectLock: false });
    const t = new DiskTarget({ root });
    const put = await t.put('k', body, { size: body.length, sha256: sha });
    const dir = join(root, 'objects', 'k.versions');
    await writeFile(join(dir, '99999999T999999999Z-0000-000000.data'), 'half');
    expect((await t.head('k')).versionId).toBe(put.versionId);
    const versions = [];
    for await (const v of t.list('')) versions.push(v.versionId);
    expect(versions).toEqual([put.versionId]);
  });

  it('refuses keys that would leave the folder or collide with its layout', async () => {
    const root = join(base, 'keys');
    await DiskTarget.initialize(root, { objectLock: false });
    const t = new DiskTarget({ root });
    for (const key of ['../escape', 'a/../../b', '/abs', 'a//b', 'nul\0', 'x.versions/y', '']) {
      const err = await t.put(key, body, { size: body.length, sha256: sha }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isPermanent(err)).toBe(true);
    }
    expect(await readdir(join(root, 'objects'))).toEqual([]);
  });

  it('refuses a body shorter than its declared size and keeps nothing', async () => {
    const root = join(base, 'short');
    await DiskTarget.initialize(root, { objectLock: false });
    const t = new DiskTarget({ root });
    const err = await t.put('k', body, { size: body.length + 1, sha256: sha }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', code: 'SizeMismatch' });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'objects'))).toEqual([]);
  });
});
