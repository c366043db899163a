import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';

const REPO = join(__dirname, '..', '..');

export interface Rgw {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  env: Record<string, string>;
  client: S3Client;
  /** A fresh bucket, with Object Lock unless told otherwise. */
  bucket(options?: { objectLock?: boolean; defaultRetentionDays?: number }): Promise<string>;
  stopGateway(): void;
  startGateway(): void;
}

/** Starts (or reuses) the Ceph RGW of scripts/rgw/start.sh; `env` picks a separate cluster (RGW_DIR, RGW_PORT). */
export function startRgw(env: Record<string, string> = {}): Rgw {
  const start = () =>
    execFileSync('bash', [join(REPO, 'scripts/rgw/start.sh')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    });
  const vars = Object.fromEntries(
    start()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const client = new S3Client({
    region: vars.RGW_REGION,
    endpoint: vars.RGW_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: vars.RGW_ACCESS_KEY_ID, secretAccessKey: vars.RGW_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const run = randomBytes(3).toString('hex');
  let n = 0;
  return {
    endpoint: vars.RGW_ENDPOINT,
    region: vars.RGW_REGION,
    accessKeyId: vars.RGW_ACCESS_KEY_ID,
    secretAccessKey: vars.RGW_SECRET_ACCESS_KEY,
    env,
    client,
    async bucket(options = {}) {
      const name = `sv-e2e-${run}-${++n}`;
      const lock = options.objectLock ?? true;
      await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: lock || undefined }));
      if (options.defaultRetentionDays)
        await client.send(
          new PutObjectLockConfigurationCommand({
            Bucket: name,
            ObjectLockConfiguration: {
              ObjectLockEnabled: 'Enabled',
              Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: options.defaultRetentionDays } },
            },
          }),
        );
      return name;
    },
    stopGateway() {
      execFileSync('bash', [join(REPO, 'scripts/rgw/stop.sh'), '--gateway', '--quiet'], { env: { ...process.env, ...env } });
    },
    startGateway() {
      start();
    },
  };
}

export function stopRgw(env: Record<string, string>): void {
  execFileSync('bash', [join(REPO, 'scripts/rgw/stop.sh'), '--purge', '--quiet'], { env: { ...process.env, ...env } });
}
