/**
 * The hash formats of ASC MHL v2.0 and how each is written in an MHL file.
 *
 * | format | algorithm                  | in the file                         |
 * |--------|----------------------------|-------------------------------------|
 * | xxh64  | XXH64, seed 0 (default)    | 16 lowercase hex digits (big-endian) |
 * | xxh3   | XXH3 64-bit, seed 0        | 16 lowercase hex digits              |
 * | xxh128 | XXH3 128-bit, seed 0       | 32 lowercase hex digits              |
 * | md5    | MD5                        | 32 lowercase hex digits              |
 * | sha1   | SHA-1                      | 40 lowercase hex digits              |
 * | c4     | C4 ID (SHA-512, base 58)   | 90 characters, "c4" + 88 base-58     |
 *
 * Hex is the canonical (big-endian) digest, as `xxhsum` prints it. Directory hashes work on the
 * digest bytes behind these strings (see directory-hash.ts), so the encoding matters.
 *
 * Implementations: Node's crypto for md5, sha1 and c4; `@node-rs/xxhash` (native) for xxh64 and
 * xxh3 and one-shot xxh128; `hash-wasm` for streaming xxh128. Any of them can be replaced with
 * `registerHashAlgorithm`.
 */
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Xxh64, xxh3 as nodeRsXxh3, xxh64 as nodeRsXxh64 } from '@node-rs/xxhash';
import { createXXHash128 } from 'hash-wasm';
import { c4IdOf, c4IdToDigest, createC4Hasher, isC4Id } from './c4';
import { MhlError } from './errors';

/** In the order the XSD requires them inside `<hash>`, `<content>` and `<structure>`. */
export const HASH_FORMATS = ['c4', 'md5', 'sha1', 'xxh128', 'xxh3', 'xxh64'] as const;
export type HashFormat = (typeof HASH_FORMATS)[number];

/** The studio's default: fast, and what DIT tools and cameras write most. */
export const DEFAULT_HASH_FORMAT: HashFormat = 'xxh64';

/** Hash values of one file, by format. */
export type HashSet = Partial<Record<HashFormat, string>>;

export interface HashFormatInfo {
  format: HashFormat;
  encoding: 'hex' | 'c4';
  /** Characters of the value in an MHL file. */
  length: number;
  /** Bytes of the digest behind the value. */
  bytes: number;
  description: string;
}

export const HASH_FORMAT_INFO: Readonly<Record<HashFormat, HashFormatInfo>> = {
  c4: { format: 'c4', encoding: 'c4', length: 90, bytes: 64, description: 'C4 ID (SMPTE ST 2114, SHA-512 in base 58)' },
  md5: { format: 'md5', encoding: 'hex', length: 32, bytes: 16, description: 'MD5' },
  sha1: { format: 'sha1', encoding: 'hex', length: 40, bytes: 20, description: 'SHA-1' },
  xxh128: { format: 'xxh128', encoding: 'hex', length: 32, bytes: 16, description: 'XXH3 128-bit' },
  xxh3: { format: 'xxh3', encoding: 'hex', length: 16, bytes: 8, description: 'XXH3 64-bit' },
  xxh64: { format: 'xxh64', encoding: 'hex', length: 16, bytes: 8, description: 'XXH64' },
};

export function isHashFormat(value: string): value is HashFormat {
  return (HASH_FORMATS as readonly string[]).includes(value);
}

/** Formats of a hash set in XSD order. */
export function formatsOf(hashes: HashSet): HashFormat[] {
  return HASH_FORMATS.filter((f) => hashes[f] !== undefined);
}

/**
 * A hash value as StudioVault writes and compares it: trimmed, hex in lowercase, checked for
 * length and alphabet. Throws `invalid-hash` otherwise.
 */
export function normalizeHashValue(format: HashFormat, value: string): string {
  const info = HASH_FORMAT_INFO[format];
  const v = value.trim();
  if (info.encoding === 'c4') {
    if (!isC4Id(v)) throw new MhlError('invalid-hash', `not a valid c4 hash: "${v.slice(0, 100)}"`);
    return v;
  }
  const hex = v.toLowerCase();
  if (hex.length !== info.length || !/^[0-9a-f]*$/.test(hex)) {
    throw new MhlError('invalid-hash', `not a valid ${format} hash (${info.length} hex digits expected): "${v.slice(0, 100)}"`);
  }
  return hex;
}

/** The digest bytes behind a hash value. */
export function hashValueToBytes(format: HashFormat, value: string): Buffer {
  const v = normalizeHashValue(format, value);
  return format === 'c4' ? c4IdToDigest(v) : Buffer.from(v, 'hex');
}

/** One running hash computation. `digest` returns the value as written in an MHL file. */
export interface StreamingHasher {
  update(chunk: Uint8Array): void;
  digest(): string;
}

/** An implementation of one format; plug another (native, WASM) in with `registerHashAlgorithm`. */
export interface HashAlgorithm {
  readonly format: HashFormat;
  /** The value of a small buffer in one call (used for directory hashes). */
  digest(data: Uint8Array): string;
  /** A streaming hasher for file contents. */
  createHasher(): StreamingHasher | Promise<StreamingHasher>;
}

function nodeCrypto(format: 'md5' | 'sha1'): HashAlgorithm {
  return {
    format,
    digest: (data) => createHash(format).update(data).digest('hex'),
    createHasher: () => {
      const h: Hash = createHash(format);
      return { update: (c) => void h.update(c), digest: () => h.digest('hex') };
    },
  };
}

const hex64 = (n: bigint): string => n.toString(16).padStart(16, '0');

const builtIn: Record<HashFormat, HashAlgorithm> = {
  md5: nodeCrypto('md5'),
  sha1: nodeCrypto('sha1'),
  c4: { format: 'c4', digest: (data) => c4IdOf(data), createHasher: () => createC4Hasher() },
  xxh64: {
    format: 'xxh64',
    digest: (data) => hex64(nodeRsXxh64(data)),
    createHasher: () => {
      const h = new Xxh64();
      return { update: (c) => void h.update(c), digest: () => hex64(h.digest()) };
    },
  },
  xxh3: {
    format: 'xxh3',
    digest: (data) => hex64(nodeRsXxh3.xxh64(data)),
    createHasher: () => {
      const h = nodeRsXxh3.Xxh3.withSeed();
      return { update: (c) => void h.update(c), digest: () => hex64(h.digest()) };
    },
  },
  xxh128: {
    format: 'xxh128',
    digest: (data) => nodeRsXxh3.xxh128(data).toString(16).padStart(32, '0'),
    // @node-rs/xxhash has no streaming XXH3-128; hash-wasm's WASM one streams.
    createHasher: async () => {
      const h = await createXXHash128();
      h.init();
      return { update: (c) => void h.update(c), digest: () => h.digest('hex') };
    },
  },
};

const registry = new Map<HashFormat, HashAlgorithm>(Object.entries(builtIn) as [HashFormat, HashAlgorithm][]);

/** Replaces the implementation of a format (for example a faster native or WASM one). */
export function registerHashAlgorithm(algorithm: HashAlgorithm): void {
  if (!isHashFormat(algorithm.format)) throw new MhlError('unsupported-format', `unknown hash format "${String(algorithm.format)}"`);
  registry.set(algorithm.format, algorithm);
}

export function getHashAlgorithm(format: HashFormat): HashAlgorithm {
  const algorithm = registry.get(format);
  if (!algorithm) throw new MhlError('unsupported-format', `no implementation registered for hash format "${format}"`);
  return algorithm;
}

/** The MHL value of a buffer in one format. */
export function hashBytes(format: HashFormat, data: Uint8Array): string {
  return getHashAlgorithm(format).digest(data);
}

export async function createStreamingHasher(format: HashFormat): Promise<StreamingHasher> {
  return getHashAlgorithm(format).createHasher();
}

/** Reads a file once and returns its size and its hashes in every requested format. */
export async function hashFile(
  path: string,
  formats: readonly HashFormat[] = [DEFAULT_HASH_FORMAT],
): Promise<{ size: number; hashes: HashSet }> {
  if (formats.length === 0) throw new MhlError('invalid-input', 'at least one hash format is needed');
  const hashers = await Promise.all(formats.map(async (f) => [f, await createStreamingHasher(f)] as const));
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    for (const [, h] of hashers) h.update(bytes);
  }
  const hashes: HashSet = {};
  for (const [f, h] of hashers) hashes[f] = h.digest();
  return { size, hashes };
}
