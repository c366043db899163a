import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DiskTarget } from '@studiovault/offsite';
import { rangedGet } from './sources';

describe('rangedGet', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sv-ranged-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('brings a large object down in ranges, several at once, and hands the bytes over in order', async () => {
    await DiskTarget.initialize(dir, { objectLock: false });
    const target = new DiskTarget({ root: dir });
    const body = randomBytes(8 * 1024 * 1024 * 3 + 12345); // 3 full ranges and a tail
    const sha256 = createHash('sha256').update(body).digest('hex');
    const put = await target.put('content/big', body, {
      size: body.length,
      sha256,
      contentMd5: createHash('md5').update(body).digest('base64'),
    });
    const ranges: string[] = [];
    const spy = Object.assign(Object.create(target) as DiskTarget, {
      get: (key: string, versionId?: string, range?: { start: number; end: number }) => {
        ranges.push(`${range!.start}-${range!.end}`);
        return target.get(key, versionId, range);
      },
    });
    const chunks: Buffer[] = [];
    for await (const c of rangedGet(spy, 'content/big', put.versionId, body.length) as Readable) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    expect(ranges).toHaveLength(4);
    expect(ranges[3]).toBe(`${3 * 8 * 1024 * 1024}-${body.length - 1}`);
  });
});
