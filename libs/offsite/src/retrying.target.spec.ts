import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DiskTarget } from './drivers/disk.driver';
import { fromSystemError, isNotFound, isPermanent, isTransient, TargetError } from './errors';
import { RetryingTarget } from './retrying.target';
import { TargetWrapper } from './target-wrapper';
import type { Body, ObjectInfo, ObjectVersion, PutOptions, PutResult } from './target';

/** Fails the first `failures` calls of head/put/list with the given error, then behaves. */
class FlakyTarget extends TargetWrapper {
  calls = 0;
  constructor(
    inner: DiskTarget,
    private failures: number,
    private readonly error: () => Error,
  ) {
    super(inner);
  }
  private trip(): void {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      throw this.error();
    }
  }
  override async head(key: string, versionId?: string): Promise<ObjectInfo> {
    this.trip();
    return super.head(key, versionId);
  }
  override async put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    this.trip();
    return super.put(key, body, options);
  }
  override async *list(prefix: string): AsyncIterable<ObjectVersion> {
    this.trip();
    yield* super.list(prefix);
  }
}

const transient = () => new TargetError('transient', 'ServerError', 'disk target: 503 SlowDown', { status: 503 });
const permanent = () => new TargetError('permanent', 'AccessDenied', 'disk target: 403 AccessDenied', { status: 403 });

describe('RetryingTarget', () => {
  let root: string;
  let disk: DiskTarget;
  const body = Buffer.from('manifest');
  const opts = { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sv-retry-'));
    await DiskTarget.initialize(root, { objectLock: true });
    disk = new DiskTarget({ root });
    await disk.put('k', body, opts);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('retries transient failures with growing backoff and succeeds', async () => {
    const flaky = new FlakyTarget(disk, 3, transient);
    const delays: number[] = [];
    const retries: number[] = [];
    const t = new RetryingTarget(flaky, {
      baseDelayMs: 100,
      random: () => 1,
      sleep: async (ms) => void delays.push(ms),
      onRetry: (i) => void retries.push(i.attempt),
    });
    expect((await t.head('k')).size).toBe(body.length);
    expect(flaky.calls).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('caps the delay and gives up after the last attempt with the last error', async () => {
    const flaky = new FlakyTarget(disk, 10, transient);
    const delays: number[] = [];
    const t = new RetryingTarget(flaky, {
      attempts: 4,
      baseDelayMs: 1000,
      maxDelayMs: 2500,
      random: () => 1,
      sleep: async (ms) => void delays.push(ms),
    });
    const err = await t.head('k').catch((e: unknown) => e);
    expect(isTransient(err)).toBe(true);
    expect(flaky.calls).toBe(4);
    expect(delays).toEqual([1000, 2000, 2500]);
  });

  it('does not retry permanent errors or not-found', async () => {
    const flaky = new FlakyTarget(disk, 1, permanent);
    const t = new RetryingTarget(flaky, { sleep: async () => undefined });
    expect(isPermanent(await t.head('k').catch((e: unknown) => e))).toBe(true);
    expect(flaky.calls).toBe(1);

    const counting = new FlakyTarget(disk, 0, transient);
    const err = await new RetryingTarget(counting, { sleep: async () => undefined }).head('missing').catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(counting.calls).toBe(1);
  });

  it('does not retry a put whose body is a one-shot stream, but does retry a re-readable one', async () => {
    const flaky = new FlakyTarget(disk, 1, transient);
    const t = new RetryingTarget(flaky, { sleep: async () => undefined });
    expect(isTransient(await t.put('s', Readable.from([body]), opts).catch((e: unknown) => e))).toBe(true);
    expect(flaky.calls).toBe(1);

    const again = new FlakyTarget(disk, 1, transient);
    await new RetryingTarget(again, { sleep: async () => undefined }).put('b', body, opts);
    expect(again.calls).toBe(2);
  });

  it('retries a listing that fails before its first entry', async () => {
    const flaky = new FlakyTarget(disk, 2, transient);
    const keys: string[] = [];
    for await (const v of new RetryingTarget(flaky, { sleep: async () => undefined }).list('k')) keys.push(v.key);
    expect(keys).toEqual(['k']);
    expect(flaky.calls).toBe(3);
  });
});

describe('fromSystemError', () => {
  const sys = (code: string) => Object.assign(new Error(`${code} something`), { code });
  it.each([
    ['ECONNREFUSED', 'transient', 'Unreachable'],
    ['ETIMEDOUT', 'transient', 'Timeout'],
    ['ECONNRESET', 'transient', 'ServerError'],
    ['ENOENT', 'not-found', 'NotFound'],
    ['EACCES', 'permanent', 'AccessDenied'],
    ['ENOSPC', 'permanent', 'NoSpace'],
    ['EROFS', 'permanent', 'AccessDenied'],
  ])('classifies %s as %s', (code, kind, tcode) => {
    expect(fromSystemError(sys(code), 'target')).toMatchObject({ kind, code: tcode });
  });
  it('leaves errors it does not know unchanged', () => {
    const e = new Error('boom');
    expect(fromSystemError(e, 'target')).toBe(e);
  });
});
