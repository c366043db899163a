import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

const FORMAT = 1;
const IV = 12;
const TAG = 16;

/**
 * Encrypts target credentials at rest (AES-256-GCM). The key is derived (HKDF-SHA256) from
 * STUDIOVAULT_SECRET_KEY; without one (the embedded default) from a random key kept in
 * <data dir>/secret.key (0600), created on first use. A sealed box is
 * [format 1 byte][iv 12][tag 16][ciphertext]; the target's id is the associated data, so a
 * box copied onto another target's row does not open.
 */
export class CredentialsBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'studiovault', 'offsite-target-credentials', 32));
  }

  /** The box of this installation: the configured key, or the data folder's key file. */
  static fromConfig(secretKey: string | undefined, dataDir: string): CredentialsBox {
    if (secretKey) return new CredentialsBox(secretKey);
    const file = join(dataDir, 'secret.key');
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch {
      mkdirSync(dirname(file), { recursive: true });
      key = randomBytes(32).toString('base64url');
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
    return new CredentialsBox(key);
  }

  seal(value: Record<string, string>, context: string): Buffer {
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
  }

  open(box: Buffer, context: string): Record<string, string> {
    try {
      if (box[0] !== FORMAT) throw new Error('unknown format');
      const decipher = createDecipheriv('aes-256-gcm', this.key, box.subarray(1, 1 + IV));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(box.subarray(1 + IV, 1 + IV + TAG));
      const text = Buffer.concat([decipher.update(box.subarray(1 + IV + TAG)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as Record<string, string>;
    } catch {
      throw new AppError(
        ErrorCode.TargetCredentialsUnavailable,
        'The stored credentials of this target cannot be decrypted: STUDIOVAULT_SECRET_KEY changed since they were saved. Enter them again.',
      );
    }
  }
}
