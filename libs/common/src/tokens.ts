import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret for a person to hold: `<prefix>_<43 base64url chars>` (256 bits). */
export function newSecretToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Tokens are stored only as SHA-256: they are high-entropy, so a slow hash buys nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
