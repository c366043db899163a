import { createHash, Hash } from 'node:crypto';
import { Xxh64 } from '@node-rs/xxhash';

export type HashAlgorithm = 'xxh64' | 'sha256' | 'md5' | 'sha1';

export type HashResult = Partial<Record<HashAlgorithm, string>>;

interface Incremental {
  update(chunk: Uint8Array): void;
  hex(): string;
}

function xxh64(): Incremental {
  const h = new Xxh64();
  return {
    update: (c) => void h.update(c),
    hex: () => h.digest().toString(16).padStart(16, '0'),
  };
}

function node(algorithm: 'sha256' | 'md5' | 'sha1'): Incremental {
  const h: Hash = createHash(algorithm);
  return { update: (c) => void h.update(c), hex: () => h.digest('hex') };
}

/**
 * Several hashes of one stream in one pass: xxh64 (native, fast: the card's working hash)
 * and SHA-256 (OpenSSL: the content address off-site). Each chunk is read once.
 */
export class MultiHasher {
  private readonly states: [HashAlgorithm, Incremental][];
  bytes = 0;

  constructor(algorithms: readonly HashAlgorithm[] = ['xxh64', 'sha256']) {
    this.states = algorithms.map((a) => [a, a === 'xxh64' ? xxh64() : node(a)]);
  }

  update(chunk: Uint8Array): void {
    if (this.result) throw new Error('MultiHasher: update after digest');
    this.bytes += chunk.length;
    for (const [, s] of this.states) s.update(chunk);
  }

  private result?: HashResult;

  /** The digests; later calls return the same result. */
  digest(): HashResult {
    this.result ??= Object.fromEntries(this.states.map(([a, s]) => [a, s.hex()]));
    return this.result;
  }
}
