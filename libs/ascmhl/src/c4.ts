/**
 * C4 ID (SMPTE ST 2114): the SHA-512 digest of the data, read as one big-endian 512-bit number,
 * written in base 58 with the C4 alphabet (digits and letters without 0, O, I and l), left-padded
 * with "1" (the alphabet's zero) to 88 characters and prefixed with "c4": 90 characters in all.
 *
 * ASC MHL uses it twice: as a file hash format (`<c4>`), and in `ascmhl_chain.xml` to identify
 * each generation file by the C4 ID of its exact bytes.
 */
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MhlError } from './errors';

export const C4_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export const C4_ID_LENGTH = 90;

const BASE = 58n;
const DIGITS = C4_ID_LENGTH - 2;
const MAX_DIGEST = (1n << 512n) - 1n;
const C4_ID = /^c4[1-9A-HJ-NP-Za-km-z]{88}$/;

/** The C4 ID of a 64-byte SHA-512 digest. */
export function c4IdFromDigest(sha512: Uint8Array): string {
  if (sha512.length !== 64) throw new MhlError('invalid-hash', `a C4 ID is made from a 64-byte SHA-512 digest, not ${sha512.length} bytes`);
  let n = BigInt('0x' + Buffer.from(sha512.buffer, sha512.byteOffset, sha512.length).toString('hex'));
  const out: string[] = new Array<string>(DIGITS).fill('1');
  for (let i = DIGITS - 1; n > 0n; i--) {
    out[i] = C4_ALPHABET[Number(n % BASE)];
    n /= BASE;
  }
  return 'c4' + out.join('');
}

/** True for a well-formed C4 ID (right length, prefix and alphabet, value within 512 bits). */
export function isC4Id(value: string): boolean {
  if (!C4_ID.test(value)) return false;
  return decode(value) <= MAX_DIGEST;
}

function decode(id: string): bigint {
  let n = 0n;
  for (let i = 2; i < id.length; i++) n = n * BASE + BigInt(C4_ALPHABET.indexOf(id[i]));
  return n;
}

/** The 64-byte SHA-512 digest a C4 ID stands for (used for directory hashes in the c4 format). */
export function c4IdToDigest(id: string): Buffer {
  if (!C4_ID.test(id)) throw new MhlError('invalid-hash', `not a C4 ID: "${id.slice(0, 100)}"`);
  const n = decode(id);
  if (n > MAX_DIGEST) throw new MhlError('invalid-hash', `C4 ID out of range: ${id}`);
  return Buffer.from(n.toString(16).padStart(128, '0'), 'hex');
}

/** Incremental C4 ID: feed chunks, then read the ID once. */
export function createC4Hasher(): { update(chunk: Uint8Array): void; digest(): string } {
  const sha: Hash = createHash('sha512');
  return {
    update: (chunk) => void sha.update(chunk),
    digest: () => c4IdFromDigest(sha.digest()),
  };
}

/** The C4 ID of a buffer or of a string's UTF-8 bytes. */
export function c4IdOf(data: Uint8Array | string): string {
  return c4IdFromDigest(createHash('sha512').update(data).digest());
}

/** The C4 ID of a file's bytes, streamed. */
export async function c4IdOfFile(path: string): Promise<string> {
  const sha = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) sha.update(chunk as Buffer);
  return c4IdFromDigest(sha.digest());
}
