import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Xxh64 } from '@node-rs/xxhash';
import { restoreBuffers } from './restore-buffers';
import { RestoreWriter } from './restore-writer';

const MiB = 1024 * 1024;

function expected(data: Buffer) {
  return {
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    xxh64: new Xxh64().update(data).digest().toString(16).padStart(16, '0'),
  };
}

/** `data` in restore buffers (as a ranged download hands it over) and in plain chunks. */
function pooled(data: Buffer): Buffer {
  const b = restoreBuffers.take();
  data.copy(b);
  return b.subarray(0, data.length);
}

describe('RestoreWriter', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sv-restore-writer-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes restore buffers as they are and plain chunks gathered, in any mix, byte for byte', async () => {
    const data = randomBytes(5 * MiB + 777);
    const chunks = [
      pooled(data.subarray(0, MiB)), // aligned: written as it is
      pooled(data.subarray(MiB, 2 * MiB)),
      data.subarray(2 * MiB, 2 * MiB + 1000), // a plain chunk: the next buffers are copied
      pooled(data.subarray(2 * MiB + 1000, 3 * MiB + 1000)),
      data.subarray(3 * MiB + 1000, 4 * MiB),
      pooled(data.subarray(4 * MiB, 5 * MiB)), // aligned again once the gathered MiB is full
      pooled(data.subarray(5 * MiB)), // a partial tail
    ];
    const writer = await RestoreWriter.prepare(root, data.length, ['A001/DCIM/a.cr3']);
    const out = await writer.write('A001/DCIM/a.cr3', Readable.from(chunks, { objectMode: true }), expected(data));
    expect(out).toMatchObject({ ok: true, bytes: data.length, hash: { name: 'xxh64' } });
    expect((await readFile(join(root, 'A001/DCIM/a.cr3'))).equals(data)).toBe(true);
    expect((await readdir(join(root, 'A001/DCIM'))).sort()).toEqual(['a.cr3']); // no temporary left
  });

  it('names nothing whose bytes do not match the catalog, and never overwrites', async () => {
    const data = randomBytes(MiB + 5);
    const writer = await RestoreWriter.prepare(root, data.length, ['x.jpg']);
    const wrong = await writer.write('x.jpg', Readable.from([pooled(data)], { objectMode: true }), {
      ...expected(data),
      xxh64: '0000000000000000',
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.error).toMatch(/does not match the catalog/);
    expect(await readdir(root)).toEqual([]);

    await writeFile(join(root, 'x.jpg'), 'already here');
    const again = await writer.write('x.jpg', Readable.from([data]), expected(data));
    expect(again).toMatchObject({ ok: false, error: 'x.jpg exists already: not overwritten' });
    expect(await readFile(join(root, 'x.jpg'), 'utf8')).toBe('already here');
  });
});
