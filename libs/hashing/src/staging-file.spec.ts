import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlignedBufferPool, DIRECT_ALIGN } from './aligned-buffers';
import { StagingFile } from './staging-file';

/**
 * Writes `data` into a staging file the way the tus store does: PATCHes that start and end at
 * any byte, each copied into aligned buffers laid out so buffer offset ≡ file position (mod 4096).
 */
async function writeInPatches(path: string, data: Buffer, patchEnds: number[], pool: AlignedBufferPool): Promise<boolean> {
  let position = 0;
  let direct = false;
  for (const end of [...patchEnds, data.length]) {
    const f = await StagingFile.open(path);
    direct ||= f.isDirect;
    try {
      while (position < end) {
        const buf = pool.take();
        const lead = position % DIRECT_ALIGN;
        const n = Math.min(buf.length - lead, end - position);
        data.copy(buf, lead, position, position + n);
        await f.write(buf, lead, n, position);
        pool.give(buf);
        position += n;
      }
      await f.sync();
    } finally {
      await f.close();
    }
  }
  return direct;
}

describe('StagingFile', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it.each([
    ['the working folder', () => mkdirSync(join(process.cwd(), 'tmp'), { recursive: true }) ?? join(process.cwd(), 'tmp')],
    ['tmpfs (/dev/shm)', () => '/dev/shm'],
    ['the system temp folder', () => tmpdir()],
  ])('on %s: whole blocks direct where the file system allows, partial blocks plain, same bytes either way', async (_name, base) => {
    const dir = await mkdtemp(join(base(), 'sv-staging-'));
    dirs.push(dir);
    const pool = new AlignedBufferPool(256 * 1024);
    const data = randomBytes(3 * 256 * 1024 + 12_345);
    // Resumed uploads start mid-block: a PATCH ends at 1 byte, another mid-block, another on a boundary.
    const path = join(dir, 'a.part');
    await writeFile(path, '');
    const direct = await writeInPatches(path, data, [1, 70_001, 4096 * 40, 600_000], pool);
    expect((await readFile(path)).equals(data)).toBe(true);
    const fsType = execFileSync('stat', ['-f', '-c', '%T', dir]).toString().trim();
    if (fsType === 'ext2/ext3' || fsType === 'xfs') expect(direct).toBe(true);
  });

  it('writes a file smaller than one block, and an empty write, through the page cache', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-staging-'));
    dirs.push(dir);
    const path = join(dir, 'small.part');
    await writeFile(path, '');
    const data = randomBytes(100);
    await writeInPatches(path, data, [0, 50], new AlignedBufferPool(64 * 1024));
    expect((await readFile(path)).equals(data)).toBe(true);
  });
});
