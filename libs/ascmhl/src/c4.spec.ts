import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { C4_ALPHABET, c4IdFromDigest, c4IdOf, c4IdOfFile, c4IdToDigest, createC4Hasher, isC4Id } from './c4';

describe('C4 ID (SMPTE ST 2114)', () => {
  it('matches known IDs', () => {
    // The C4 ID of no bytes, as given in the C4 ID documentation.
    expect(c4IdOf('')).toBe('c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT');
    // The ASC reference tool's test vector for "media-hash-list" (tests/test_hasher.py).
    expect(c4IdOf('media-hash-list')).toBe('c456LycWwpMMS7VDZEKvYv2L1uJS6s4qAFnaJdnQiy5JVbBFZMA8aLDS6SPaJjLqxXH4qZdnbuktopMt9frtC2qL1R');
  });

  it('is base 58 of the SHA-512 number, "1"-padded to 88 digits, 90 characters in all', () => {
    expect(C4_ALPHABET).toHaveLength(58);
    expect(C4_ALPHABET).not.toMatch(/[0OIl]/);
    // Derive independently: repeated division of the digest as a number.
    for (const data of [Buffer.alloc(0), Buffer.from('a'), randomBytes(1000)]) {
      const digest = createHash('sha512').update(data).digest();
      let n = BigInt('0x' + digest.toString('hex'));
      let digits = '';
      while (n > 0n) {
        digits = C4_ALPHABET[Number(n % 58n)] + digits;
        n = n / 58n;
      }
      const id = c4IdOf(data);
      expect(id).toBe('c4' + digits.padStart(88, '1'));
      expect(id).toHaveLength(90);
      expect(c4IdToDigest(id).equals(digest)).toBe(true);
    }
  });

  it('pads small digests with the zero digit "1"', () => {
    const digest = Buffer.alloc(64);
    digest[63] = 57;
    expect(c4IdFromDigest(digest)).toBe('c4' + '1'.repeat(87) + 'z');
    expect(c4IdFromDigest(Buffer.alloc(64))).toBe('c4' + '1'.repeat(88));
    expect(c4IdToDigest('c4' + '1'.repeat(88)).equals(Buffer.alloc(64))).toBe(true);
  });

  it('streams a file to the same ID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-c4-'));
    try {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await writeFile(join(dir, 'f'), data);
      expect(await c4IdOfFile(join(dir, 'f'))).toBe(c4IdOf(data));
      const h = createC4Hasher();
      for (let i = 0; i < data.length; i += 65_521) h.update(data.subarray(i, i + 65_521));
      expect(h.digest()).toBe(c4IdOf(data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tells IDs from non-IDs', () => {
    const id = c4IdOf('x');
    expect(isC4Id(id)).toBe(true);
    expect(isC4Id(id.slice(0, 89))).toBe(false);
    expect(isC4Id('c5' + id.slice(2))).toBe(false);
    expect(isC4Id(id.slice(0, 89) + '0')).toBe(false); // 0 is not in the alphabet
    expect(isC4Id('c4' + 'z'.repeat(88))).toBe(false); // more than 512 bits
    expect(() => c4IdToDigest('c4' + 'z'.repeat(88))).toThrow(/out of range/);
    expect(() => c4IdFromDigest(Buffer.alloc(32))).toThrow(/64-byte/);
  });
});
