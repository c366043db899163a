import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_HASH_FORMAT,
  HASH_FORMATS,
  HASH_FORMAT_INFO,
  HashAlgorithm,
  createStreamingHasher,
  getHashAlgorithm,
  hashBytes,
  hashFile,
  hashValueToBytes,
  normalizeHashValue,
  registerHashAlgorithm,
} from './hash-formats';

describe('hash formats', () => {
  // The ASC reference tool's vectors (tests/test_hasher.py); xxh64/xxh3/xxh128 also agree with xxhsum 0.8.1.
  const vectors: Record<string, string> = {
    md5: '9db0fc9f30f5ee70041a7538809e2858',
    sha1: '7b57673ac5633937a55b59009ad0c57ee08188b7',
    xxh64: '584b2ea1974f2b7c',
    xxh3: '6d4cbd75905c81aa',
    xxh128: '61a67c014f703a456ee7a776fd8c06bd',
    c4: 'c456LycWwpMMS7VDZEKvYv2L1uJS6s4qAFnaJdnQiy5JVbBFZMA8aLDS6SPaJjLqxXH4qZdnbuktopMt9frtC2qL1R',
  };

  it('xxh64 is the default; the XSD order is c4, md5, sha1, xxh128, xxh3, xxh64', () => {
    expect(DEFAULT_HASH_FORMAT).toBe('xxh64');
    expect(HASH_FORMATS).toEqual(['c4', 'md5', 'sha1', 'xxh128', 'xxh3', 'xxh64']);
  });

  it.each(HASH_FORMATS)('%s of "media-hash-list" matches the reference, one-shot and streamed', async (format) => {
    const data = Buffer.from('media-hash-list');
    expect(hashBytes(format, data)).toBe(vectors[format]);
    const h = await createStreamingHasher(format);
    h.update(data.subarray(0, 5));
    h.update(data.subarray(5));
    expect(h.digest()).toBe(vectors[format]);
    expect(vectors[format]).toHaveLength(HASH_FORMAT_INFO[format].length);
  });

  it('xxh64 of no bytes and of "a" (xxHash reference values), zero-padded to 16 digits', () => {
    expect(hashBytes('xxh64', Buffer.alloc(0))).toBe('ef46db3751d8e999');
    expect(hashBytes('xxh64', Buffer.from('a'))).toBe('d24ec4f1a98c6e5b');
    expect(hashBytes('xxh3', Buffer.alloc(0))).toBe('2d06800538d394c2');
    expect(hashBytes('xxh128', Buffer.alloc(0))).toBe('99aa06d3014798d86001c324468d497f');
  });

  it.each(HASH_FORMATS)('%s streams in odd chunks to the one-shot value', async (format) => {
    const data = randomBytes(2 * 1024 * 1024 + 333);
    const h = await createStreamingHasher(format);
    for (let i = 0; i < data.length; i += 77_777) h.update(data.subarray(i, i + 77_777));
    expect(h.digest()).toBe(hashBytes(format, data));
  });

  it('hashes a file once in several formats', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-hf-'));
    try {
      const data = randomBytes(1_500_001);
      await writeFile(join(dir, 'f'), data);
      const r = await hashFile(join(dir, 'f'), ['xxh64', 'md5', 'c4', 'xxh128']);
      expect(r.size).toBe(data.length);
      expect(r.hashes).toEqual({
        xxh64: hashBytes('xxh64', data),
        md5: hashBytes('md5', data),
        c4: hashBytes('c4', data),
        xxh128: hashBytes('xxh128', data),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('normalizes values (trim, lowercase hex) and refuses malformed ones', () => {
    expect(normalizeHashValue('xxh64', ' 584B2EA1974F2B7C\n')).toBe('584b2ea1974f2b7c');
    expect(() => normalizeHashValue('xxh64', '584b2ea1974f2b7')).toThrow(/16 hex digits/);
    expect(() => normalizeHashValue('md5', 'zz'.repeat(16))).toThrow(/md5/);
    expect(() => normalizeHashValue('c4', 'c4abc')).toThrow(/c4/);
    expect(hashValueToBytes('xxh64', '584b2ea1974f2b7c').toString('hex')).toBe('584b2ea1974f2b7c');
    expect(hashValueToBytes('c4', vectors.c4)).toHaveLength(64);
  });

  it('lets another implementation be plugged in', () => {
    const original = getHashAlgorithm('xxh128');
    const fake: HashAlgorithm = {
      format: 'xxh128',
      digest: () => '0'.repeat(32),
      createHasher: () => ({ update: () => undefined, digest: () => '0'.repeat(32) }),
    };
    try {
      registerHashAlgorithm(fake);
      expect(hashBytes('xxh128', Buffer.from('x'))).toBe('0'.repeat(32));
    } finally {
      registerHashAlgorithm(original);
    }
    expect(hashBytes('xxh128', Buffer.from('media-hash-list'))).toBe(vectors.xxh128);
  });
});
