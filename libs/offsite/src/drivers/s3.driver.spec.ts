import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { isTransient } from '../errors';
import { RetryingTarget } from '../retrying.target';
import { Secret } from '../secret';
import type { OffsiteTarget, UploadedPart } from '../target';
import { TargetWrapper } from '../target-wrapper';
import { describeTargetContract, type ContractHarness } from '../testing/contract-suite';
import { uploadFile } from '../upload';
import { S3Target, type S3TargetConfig } from './s3.driver';

const REPO = join(__dirname, '../../../..');

interface Endpoint {
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** Starts (or reuses) the throwaway Ceph RGW of scripts/rgw/start.sh and returns its endpoint and test keys. */
function startRgw(env: NodeJS.ProcessEnv = {}): Endpoint {
  const out = execFileSync('bash', [join(REPO, 'scripts/rgw/start.sh')], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000,
  });
  const vars = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    endpoint: vars.RGW_ENDPOINT,
    region: vars.RGW_REGION,
    accessKeyId: vars.RGW_ACCESS_KEY_ID,
    secretAccessKey: vars.RGW_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Buckets made per test file (names carry a random run id); `cleanupBuckets` removes what it can
 * (on a cloud provider COMPLIANCE versions stay until their retention ends: tests lock briefly there).
 */
async function s3Harness(
  ep: Endpoint,
  options: { lockSeconds?: number; cleanupBuckets?: boolean; bucketPrefix?: string } = {},
): Promise<ContractHarness> {
  const port = await closedPort();
  const run = randomBytes(4).toString('hex');
  const admin = new S3Client({
    region: ep.region,
    endpoint: ep.endpoint,
    forcePathStyle: ep.forcePathStyle,
    credentials: { accessKeyId: ep.accessKeyId, secretAccessKey: ep.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const created: string[] = [];
  const targets: S3Target[] = [];
  const configs = new Map<OffsiteTarget, S3TargetConfig>();
  let n = 0;
  const make = (config: S3TargetConfig) => {
    const t = new S3Target(config);
    targets.push(t);
    configs.set(t, config);
    return t;
  };
  const config = (bucket: string, over: Partial<S3TargetConfig> = {}): S3TargetConfig => ({
    endpoint: ep.endpoint,
    region: ep.region,
    bucket,
    prefix: 'studio/',
    forcePathStyle: ep.forcePathStyle,
    accessKeyId: ep.accessKeyId,
    secretAccessKey: new Secret(ep.secretAccessKey),
    ...over,
  });
  const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
  return {
    lockSeconds: options.lockSeconds,
    secrets: [ep.secretAccessKey, wrongSecret],
    async fresh({ objectLock, defaultRetention }) {
      const bucket = `${options.bucketPrefix ?? 'sv-contract'}-${run}-${++n}${objectLock ? '-lock' : ''}`;
      await admin.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: objectLock || undefined }));
      created.push(bucket);
      if (defaultRetention) {
        await admin.send(
          new PutObjectLockConfigurationCommand({
            Bucket: bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: 'Enabled',
              Rule: { DefaultRetention: { Mode: defaultRetention.mode, Days: defaultRetention.days } },
            },
          }),
        );
      }
      return make(config(bucket));
    },
    reopen: (target) => make(configs.get(target)!),
    wrongCredentials: () => make(config(`sv-contract-${run}-1-lock`, { secretAccessKey: new Secret(wrongSecret) })),
    missingBucket: () => make(config(`sv-contract-${run}-never-made`)),
    unreachable: () => make({ ...config('nowhere'), endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }),
    async cleanup() {
      if (options.cleanupBuckets) {
        for (const bucket of created) {
          const page = await admin.send(new ListObjectVersionsCommand({ Bucket: bucket })).catch(() => undefined);
          for (const v of [...(page?.Versions ?? []), ...(page?.DeleteMarkers ?? [])]) {
            await admin
              .send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId, BypassGovernanceRetention: true }))
              .catch(() => undefined);
          }
          await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
        }
      }
      for (const t of targets) t.destroy();
      admin.destroy();
    },
  };
}

// Ceph RGW from Debian, started by the test (a real server that enforces Object Lock).
describeTargetContract('S3 on Ceph RGW', () => s3Harness(startRgw()));

// A cloud provider, only when its credentials are in the environment.
function cloud(name: string, env: string): void {
  const v = (k: string) => process.env[`${env}_${k}`];
  const ready = v('ACCESS_KEY_ID') && v('SECRET_ACCESS_KEY') && v('REGION');
  describeTargetContract(
    name,
    async () => {
      const ep: Endpoint = {
        endpoint: v('ENDPOINT'),
        region: v('REGION')!,
        accessKeyId: v('ACCESS_KEY_ID')!,
        secretAccessKey: v('SECRET_ACCESS_KEY')!,
        forcePathStyle: false,
      };
      const lockSeconds = Number(v('LOCK_SECONDS') ?? 120);
      return s3Harness(ep, { lockSeconds, cleanupBuckets: true, bucketPrefix: v('BUCKET_PREFIX') ?? 'studiovault-test' });
    },
    { skip: ready ? undefined : `set ${env}_ACCESS_KEY_ID, ${env}_SECRET_ACCESS_KEY, ${env}_REGION (and ${env}_ENDPOINT)` },
  );
}
cloud('S3 on AWS', 'STUDIOVAULT_TEST_AWS');
cloud('S3 on Backblaze B2', 'STUDIOVAULT_TEST_B2');

/** Runs `action` once, right after the first part was stored. */
class AfterFirstPart extends TargetWrapper {
  private fired = false;
  constructor(
    inner: OffsiteTarget,
    private readonly action: () => void,
  ) {
    super(inner);
  }
  override async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    options: { contentMd5: string },
  ): Promise<UploadedPart> {
    const part = await super.uploadPart(key, uploadId, partNumber, body, options);
    if (!this.fired) {
      this.fired = true;
      this.action();
    }
    return part;
  }
}

describe('S3 on Ceph RGW: the gateway stops mid-upload', () => {
  // Its own cluster, so that stopping its gateway disturbs no other test file.
  const env = { RGW_DIR: join(tmpdir(), `studiovault-rgw-restart-${process.pid}`), RGW_PORT: '7496' };
  let ep: Endpoint;
  let h: ContractHarness;
  let scratch: string;

  beforeAll(async () => {
    ep = startRgw(env);
    h = await s3Harness(ep);
    scratch = await mkdtemp(join(tmpdir(), 'sv-rgw-restart-'));
  }, 180_000);
  afterAll(async () => {
    await h?.cleanup?.();
    execFileSync('bash', [join(REPO, 'scripts/rgw/stop.sh'), '--purge', '--quiet'], { env: { ...process.env, ...env } });
    await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it('retries the transient failures and finishes once the gateway is back, every part and the lock in place', async () => {
    const target = await h.fresh({ objectLock: true });
    const body = randomBytes(15 * 1024 * 1024 + 99);
    const path = join(scratch, 'clip.mov');
    await writeFile(path, body);
    const sha256 = createHash('sha256').update(body).digest('hex');

    const retries: { operation: string; transient: boolean }[] = [];
    const stopGateway = () =>
      execFileSync('bash', [join(REPO, 'scripts/rgw/stop.sh'), '--gateway', '--quiet'], { env: { ...process.env, ...env } });
    const retrying = new RetryingTarget(new AfterFirstPart(target, stopGateway), {
      attempts: 6,
      baseDelayMs: 200,
      onRetry: ({ operation, error, attempt }) => {
        retries.push({ operation, transient: isTransient(error) });
        if (attempt === 2) startRgw(env); // the gateway comes back while the upload keeps retrying
      },
    });
    const lock = { mode: 'GOVERNANCE' as const, retainUntil: new Date(Date.now() + 600_000) };
    const out = await uploadFile(
      retrying,
      { key: 'card/clip.mov', path, size: body.length, sha256, lock },
      { multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024, concurrency: 1 },
    );

    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.every((r) => r.transient && r.operation === 'uploadPart')).toBe(true);
    expect(out).toMatchObject({ multipart: true, partsSent: 4 });
    expect((await target.head('card/clip.mov', out.versionId)).sha256).toBe(sha256);
    expect((await target.getRetention('card/clip.mov', out.versionId))?.mode).toBe('GOVERNANCE');
  }, 90_000);
});
