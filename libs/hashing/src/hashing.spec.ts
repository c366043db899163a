import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainRead, readFromDevice } from './device-reader';
import { MultiHasher } from './multi-hasher';

describe('hashing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sv-hash-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('xxh64 matches the reference test vectors', () => {
    const h = new MultiHasher(['xxh64']);
    expect(h.digest().xxh64).toBe('ef46db3751d8e999'); // xxh64("")
    const a = new MultiHasher(['xxh64']);
    a.update(Buffer.from('a'));
    expect(a.digest().xxh64).toBe('d24ec4f1a98c6e5b'); // xxh64("a")
  });

  it('hashes in chunks the same as in one piece', () => {
    const data = randomBytes(1_000_003);
    const whole = new MultiHasher(['xxh64', 'sha256', 'md5', 'sha1']);
    whole.update(data);
    const parts = new MultiHasher(['xxh64', 'sha256', 'md5', 'sha1']);
    for (let i = 0; i < data.length; i += 65_537) parts.update(data.subarray(i, i + 65_537));
    expect(parts.digest()).toEqual(whole.digest());
    expect(whole.digest().sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it.each([
    ['an odd-sized file', 4 * 1024 * 1024 * 2 + 12_345],
    ['an empty file', 0],
    ['a one-byte file', 1],
  ])('reads %s back from the device with O_DIRECT on ext4, same hashes as a plain read', async (_n, size) => {
    const file = join(dir, `f-${size}`);
    const data = randomBytes(size);
    await writeFile(file, data);
    const direct = await readFromDevice(file);
    const plain = await plainRead(file);
    expect(direct.bytes).toBe(size);
    expect(direct.hashes).toEqual(plain.hashes);
    expect(direct.hashes.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const fsType = execFileSync('stat', ['-f', '-c', '%T', dir]).toString().trim();
    if (fsType === 'ext2/ext3' || fsType === 'ext4' || fsType === 'xfs') expect(direct.method).toBe('o_direct');
  });

  it('agrees with the xxhsum tool when it is installed', async () => {
    const file = join(dir, 'xxhsum-check');
    await writeFile(file, randomBytes(3_000_000));
    let expected: string | undefined;
    try {
      expected = execFileSync('xxhsum', ['-H1', file]).toString().split(/\s+/)[0];
    } catch {
      return; // xxhsum is a benchmark baseline tool, not a test dependency
    }
    expect((await readFromDevice(file)).hashes.xxh64).toBe(expected);
  });
});
