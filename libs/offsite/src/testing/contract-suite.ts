/**
 * The one contract every off-site target passes (restic's internal/backend/test/suite.go):
 * a new driver adds a harness of a few lines, not a test file of its own. It runs against real
 * servers and real folders; nothing here is mocked. Wrappers stand in only for what a healthy
 * server cannot be made to do on demand (a crash between parts, a provider that drops lock
 * headers).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { isNotFound, isPermanent, isTargetError, TargetError } from '../errors';
import { ensureRetention } from '../retention';
import { RetryingTarget } from '../retrying.target';
import { PREFLIGHT_CHECKS, type LockMode, type OffsiteTarget, type Retention } from '../target';
import { abortStaleMultipartUploads, LocalCopyDamaged, uploadFile } from '../upload';
import { CountingTarget, CrashingTarget, LockHeadersIgnoredTarget, RetentionIgnoredTarget } from './wrappers';

const MiB = 1024 * 1024;

export interface ContractHarness {
  /** A target on a new, empty bucket (or folder). */
  fresh(options: { objectLock: boolean; defaultRetention?: { mode: LockMode; days: number } }): Promise<OffsiteTarget>;
  /** A second driver instance on the same bucket as `target`: StudioVault after a restart. */
  reopen(target: OffsiteTarget): OffsiteTarget;
  /** A target whose server refuses its credentials; omitted where there are none (disk). */
  wrongCredentials?(): OffsiteTarget;
  /** A target whose bucket (or target folder) does not exist. */
  missingBucket(): OffsiteTarget;
  /** A target that cannot be reached at all (closed port, unmounted drive). */
  unreachable(): OffsiteTarget;
  /** Strings that must never show up in an error message or a preflight report. */
  secrets?: string[];
  /** How long test locks last (COMPLIANCE versions stay until then). Default 600 s. */
  lockSeconds?: number;
  cleanup?(): Promise<void>;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
function md5(b: Uint8Array): string {
  return createHash('md5').update(b).digest('base64');
}
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
function expectPermanent(err: unknown, code?: TargetError['code']): void {
  expect(isTargetError(err)).toBe(true);
  expect(isPermanent(err)).toBe(true);
  expect(isNotFound(err)).toBe(false);
  if (code) expect((err as TargetError).code).toBe(code);
}
const noSleep = () => Promise.resolve();

export interface ContractOptions {
  /** A reason to list every test as skipped (a cloud provider's credentials are not in the environment). */
  skip?: string;
  /** The target kind has credentials (S3 yes, disk no); without, the credential test is listed as skipped. */
  credentials?: boolean;
}

/** Registers the contract for one target kind. */
export function describeTargetContract(
  name: string,
  makeHarness: () => Promise<ContractHarness> | ContractHarness,
  options: ContractOptions = {},
): void {
  const title = options.skip ? `${name} (skipped: ${options.skip})` : name;
  (options.skip ? describe.skip : describe)(`off-site target contract: ${title}`, () => {
    let h: ContractHarness;
    let locked: OffsiteTarget; // a bucket with Object Lock (and so versioning), no default retention
    let plain: OffsiteTarget; // a bucket without Object Lock
    let scratch: string;
    let n = 0;
    const run = randomBytes(3).toString('hex');
    const prefix = () => `contract-${run}/t${++n}/`;
    const lockFor = (mode: LockMode): Retention => ({
      mode,
      retainUntil: new Date(Math.ceil((Date.now() + (h.lockSeconds ?? 600) * 1000) / 1000) * 1000),
    });
    const bytes = (size: number) => randomBytes(size);
    const putBytes = (t: OffsiteTarget, key: string, body: Buffer, lock?: Retention, legalHold?: boolean) =>
      t.put(key, body, { size: body.length, sha256: sha256(body), contentMd5: md5(body), lock, legalHold });
    const localFile = async (size: number) => {
      const body = bytes(size);
      const path = join(scratch, `f-${++n}.bin`);
      await writeFile(path, body);
      return { path, body, size, sha256: sha256(body) };
    };
    const secretsIn = (text: string) => (h.secrets ?? []).filter((s) => s.length > 0 && text.includes(s));

    beforeAll(async () => {
      h = await makeHarness();
      locked = await h.fresh({ objectLock: true });
      plain = await h.fresh({ objectLock: false });
      scratch = await mkdtemp(join(tmpdir(), 'sv-contract-'));
    }, 180_000); // may install and start a server (scripts/rgw/start.sh)
    afterAll(async () => {
      if (scratch) await rm(scratch, { recursive: true, force: true });
      await h?.cleanup?.();
    });

    describe('objects', () => {
      it('round-trips put, head and get, with the SHA-256 stored and reported', async () => {
        const key = `${prefix()}card/DSC_0001.ARW`;
        const body = bytes(100_000);
        const put = await putBytes(locked, key, body);
        expect(put.versionId).toBeTruthy();
        expect(put.sha256).toBe(sha256(body));

        const info = await locked.head(key, put.versionId);
        expect(info).toMatchObject({
          key,
          versionId: put.versionId,
          size: body.length,
          sha256: sha256(body),
          retention: null,
          legalHold: false,
        });
        expect(Math.abs(info.lastModified.getTime() - Date.now())).toBeLessThan(5 * 60_000);
        expect((await locked.head(key)).versionId).toBe(put.versionId);

        expect(sha256(await readAll(await locked.get(key, put.versionId)))).toBe(sha256(body));
        expect(await readAll(await locked.get(key, undefined, { start: 10, end: 19 }))).toEqual(body.subarray(10, 20));
      });

      it('takes bodies from a file slice and from a stream', async () => {
        const key = prefix();
        const f = await localFile(300_000);
        const slice = f.body.subarray(1000, 201_000);
        const fromFile = await locked.put(
          `${key}slice`,
          { path: f.path, offset: 1000, length: 200_000 },
          { size: 200_000, sha256: sha256(slice), contentMd5: md5(slice) },
        );
        expect(await readAll(await locked.get(`${key}slice`, fromFile.versionId))).toEqual(slice);

        const fromStream = await locked.put(`${key}stream`, Readable.from([f.body.subarray(0, 5), f.body.subarray(5)]), {
          size: f.size,
          sha256: f.sha256,
          contentMd5: md5(f.body),
        });
        expect((await locked.head(`${key}stream`, fromStream.versionId)).sha256).toBe(f.sha256);
      });

      it('refuses a body that does not match its Content-MD5 (permanent) and stores nothing', async () => {
        const key = `${prefix()}bad`;
        const body = bytes(1000);
        const err = await caught(locked.put(key, body, { size: body.length, sha256: sha256(body), contentMd5: md5(bytes(1000)) }));
        expectPermanent(err, 'BadDigest');
        expect(isNotFound(await caught(locked.head(key)))).toBe(true);
      });

      it('keeps every version: a second put adds one, both stay readable, list shows newest first', async () => {
        const p = prefix();
        const key = `${p}manifest.json`;
        const one = Buffer.from('{"v":1}');
        const two = Buffer.from('{"v":2,"more":true}');
        const v1 = await putBytes(locked, key, one);
        const v2 = await putBytes(locked, key, two);
        expect(v2.versionId).not.toBe(v1.versionId);
        expect(await readAll(await locked.get(key, v1.versionId))).toEqual(one);
        expect(await readAll(await locked.get(key, v2.versionId))).toEqual(two);
        expect(await readAll(await locked.get(key))).toEqual(two);

        const listed = [];
        for await (const v of locked.list(p)) listed.push(v);
        expect(listed.map((v) => [v.key, v.versionId, v.size, v.isLatest])).toEqual([
          [key, v2.versionId, two.length, true],
          [key, v1.versionId, one.length, false],
        ]);
      });

      it('lists by prefix, keys in ascending order', async () => {
        const p = prefix();
        const keys = [`${p}a/b/2`, `${p}a/b/1`, `${p}a/c`, `${p}ab`, `${p}z`];
        for (const k of keys) await putBytes(locked, k, Buffer.from(k));
        const list = async (q: string) => {
          const out: string[] = [];
          for await (const v of locked.list(q)) out.push(v.key.slice(p.length));
          return out;
        };
        expect(await list(`${p}a/b/`)).toEqual(['a/b/1', 'a/b/2']);
        expect(await list(`${p}a`)).toEqual(['a/b/1', 'a/b/2', 'a/c', 'ab']);
        expect(await list(p)).toEqual(['a/b/1', 'a/b/2', 'a/c', 'ab', 'z']);
        expect(await list(`${p}nothing/`)).toEqual([]);
      });

      it('types not-found errors (missing key, missing version, retention of a missing key)', async () => {
        const p = prefix();
        const other = await putBytes(locked, `${p}other`, Buffer.from('x'));
        await putBytes(locked, `${p}present`, Buffer.from('y'));
        for (const call of [
          () => locked.head(`${p}missing`),
          () => locked.get(`${p}missing`),
          () => locked.head(`${p}present`, other.versionId),
          () => locked.getRetention(`${p}missing`, other.versionId),
        ]) {
          const err = await caught(call());
          expect(isNotFound(err)).toBe(true);
          expect(isPermanent(err)).toBe(true);
        }
      });
    });

    describe('Object Lock', () => {
      it('refuses to delete a COMPLIANCE-locked version (permanent, ObjectLocked), even with bypass; it stays readable', async () => {
        const key = `${prefix()}locked`;
        const body = bytes(2000);
        const lock = lockFor('COMPLIANCE');
        const put = await putBytes(locked, key, body, lock);
        const r = await locked.getRetention(key, put.versionId);
        expect(r?.mode).toBe('COMPLIANCE');
        expect(r!.retainUntil.getTime()).toBeGreaterThanOrEqual(lock.retainUntil.getTime() - 999);

        expectPermanent(await caught(locked.deleteVersion(key, put.versionId)), 'ObjectLocked');
        expectPermanent(await caught(locked.deleteVersion(key, put.versionId, { bypassGovernance: true })), 'ObjectLocked');
        expect(sha256(await readAll(await locked.get(key, put.versionId)))).toBe(sha256(body));
      });

      it('never shortens retention or changes its mode, but extends it', async () => {
        const key = `${prefix()}extend`;
        const lock = lockFor('COMPLIANCE');
        const put = await putBytes(locked, key, bytes(10), lock);

        const shorter = { mode: 'COMPLIANCE' as const, retainUntil: new Date(lock.retainUntil.getTime() - 60_000) };
        expectPermanent(await caught(locked.putRetention(key, put.versionId, shorter)), 'RetentionChangeRefused');
        const weaker = { mode: 'GOVERNANCE' as const, retainUntil: new Date(lock.retainUntil.getTime() + 60_000) };
        expectPermanent(await caught(locked.putRetention(key, put.versionId, weaker)));

        const gov = await putBytes(locked, `${key}-gov`, bytes(10), lockFor('GOVERNANCE'));
        const upgraded = { mode: 'COMPLIANCE' as const, retainUntil: new Date(lock.retainUntil.getTime() + 60_000) };
        expectPermanent(await caught(locked.putRetention(`${key}-gov`, gov.versionId, upgraded)), 'RetentionChangeRefused');

        const longer = { mode: 'COMPLIANCE' as const, retainUntil: new Date(lock.retainUntil.getTime() + 3_600_000) };
        await locked.putRetention(key, put.versionId, longer);
        const r = await locked.getRetention(key, put.versionId);
        expect(r).toEqual({ mode: 'COMPLIANCE', retainUntil: expect.any(Date) });
        expect(Math.floor(r!.retainUntil.getTime() / 1000)).toBe(Math.floor(longer.retainUntil.getTime() / 1000));
      });

      it('lets the maintenance credential delete a GOVERNANCE version only with bypass', async () => {
        const key = `${prefix()}governance`;
        const put = await putBytes(locked, key, bytes(10), lockFor('GOVERNANCE'));
        expectPermanent(await caught(locked.deleteVersion(key, put.versionId)), 'ObjectLocked');
        await locked.deleteVersion(key, put.versionId, { bypassGovernance: true });
        expect(isNotFound(await caught(locked.head(key, put.versionId)))).toBe(true);
      });

      it('turns a legal hold on and off; a held version cannot be deleted', async () => {
        const key = `${prefix()}hold`;
        const put = await putBytes(locked, key, bytes(10));
        expect(await locked.getLegalHold(key, put.versionId)).toBe(false);
        await locked.putLegalHold(key, put.versionId, true);
        expect(await locked.getLegalHold(key, put.versionId)).toBe(true);
        expect((await locked.head(key, put.versionId)).legalHold).toBe(true);
        expectPermanent(await caught(locked.deleteVersion(key, put.versionId, { bypassGovernance: true })), 'ObjectLocked');

        await locked.putLegalHold(key, put.versionId, false);
        expect(await locked.getLegalHold(key, put.versionId)).toBe(false);
        await locked.deleteVersion(key, put.versionId);
        expect(isNotFound(await caught(locked.head(key, put.versionId)))).toBe(true);
      });

      it('applies a legal hold sent with the upload', async () => {
        const key = `${prefix()}hold-on-put`;
        const put = await putBytes(locked, key, bytes(10), undefined, true);
        expect(await locked.getLegalHold(key, put.versionId)).toBe(true);
        await locked.putLegalHold(key, put.versionId, false);
      });

      it('refuses lock options on a bucket without Object Lock (permanent)', async () => {
        const key = `${prefix()}nolock`;
        expectPermanent(await caught(putBytes(plain, key, bytes(10), lockFor('GOVERNANCE'))));
      });

      it('ensureRetention: reads back, sets a missing or shorter retention, never shortens', async () => {
        const key = `${prefix()}ensure`;
        const put = await putBytes(locked, key, bytes(10));
        const wanted = lockFor('GOVERNANCE');

        const first = await ensureRetention(locked, key, put.versionId, wanted);
        expect(first.fixed).toBe(true);
        expect(first.retention.mode).toBe('GOVERNANCE');
        expect(await locked.getRetention(key, put.versionId)).toEqual(first.retention);

        const shorter = { mode: 'GOVERNANCE' as const, retainUntil: new Date(wanted.retainUntil.getTime() - 60_000) };
        expect((await ensureRetention(locked, key, put.versionId, shorter)).fixed).toBe(false); // covered: nothing sent

        const longer = { mode: 'GOVERNANCE' as const, retainUntil: new Date(wanted.retainUntil.getTime() + 60_000) };
        const extended = await ensureRetention(locked, key, put.versionId, longer);
        expect(extended.fixed).toBe(true);
        expect(Math.floor(extended.retention.retainUntil.getTime() / 1000)).toBe(Math.floor(longer.retainUntil.getTime() / 1000));
      });

      it('ensureRetention: a GOVERNANCE version wanted in COMPLIANCE gets the later date and is reported, not silently accepted', async () => {
        const key = `${prefix()}mode`;
        const held = lockFor('GOVERNANCE');
        const put = await putBytes(locked, key, bytes(10), held);
        const wanted = { mode: 'COMPLIANCE' as const, retainUntil: new Date(held.retainUntil.getTime() + 120_000) };
        expectPermanent(await caught(ensureRetention(locked, key, put.versionId, wanted)), 'RetentionNotApplied');
        const r = await locked.getRetention(key, put.versionId);
        expect(r?.mode).toBe('GOVERNANCE'); // a mode in force changes only with the maintenance credential's bypass
        expect(Math.floor(r!.retainUntil.getTime() / 1000)).toBe(Math.floor(wanted.retainUntil.getTime() / 1000));
      });
    });

    describe('uploads', () => {
      it('uploads a small file with one locked PUT whose retention is read back in force, no fix needed', async () => {
        const f = await localFile(200_000);
        const key = `${prefix()}small.jpg`;
        const lock = lockFor('GOVERNANCE');
        const counting = new CountingTarget(locked);
        const out = await uploadFile(counting, { key, path: f.path, size: f.size, sha256: f.sha256, lock });
        expect(out).toMatchObject({ multipart: false, retentionFixed: false, size: f.size, sha256: f.sha256 });
        expect(out.retention?.mode).toBe('GOVERNANCE');
        expect(counting.count('put')).toBe(1);
        expect(counting.count('putRetention')).toBe(0);
      });

      it('uploads 3 × 5 MiB + a tail in parts and ends with the retention read back in force', async () => {
        const f = await localFile(15 * MiB + 12_345);
        const key = `${prefix()}clip.mov`;
        const lock = lockFor('GOVERNANCE');
        const counting = new CountingTarget(locked);
        const out = await uploadFile(
          counting,
          { key, path: f.path, size: f.size, sha256: f.sha256, lock },
          { multipartThreshold: 5 * MiB, partSize: 5 * MiB, concurrency: 2 },
        );
        expect(out).toMatchObject({ multipart: true, partsSent: 4, partsReused: 0, size: f.size });
        expect(counting.partsSent.sort()).toEqual([1, 2, 3, 4]);

        // In force as the raw target reports it, whatever the upload's headers achieved.
        const r = await locked.getRetention(key, out.versionId);
        expect(r?.mode).toBe('GOVERNANCE');
        expect(r!.retainUntil.getTime()).toBeGreaterThan(Date.now());
        expect(Math.floor(r!.retainUntil.getTime() / 1000)).toBeGreaterThanOrEqual(Math.floor(lock.retainUntil.getTime() / 1000));
        expect((await locked.head(key, out.versionId)).sha256).toBe(f.sha256);
        expect(sha256(await readAll(await locked.get(key, out.versionId)))).toBe(f.sha256);
      });

      it('resumes a multipart upload after a restart without re-sending finished parts', async () => {
        const f = await localFile(15 * MiB + 777);
        const key = `${prefix()}resume.mov`;
        const lock = lockFor('GOVERNANCE');
        const saved: { uploadId?: string; parts: number[] } = { parts: [] };

        // First run: dies before part 3, after the id and two parts were persisted.
        const first = new CrashingTarget(locked, 3);
        const err = await caught(
          uploadFile(
            first,
            { key, path: f.path, size: f.size, sha256: f.sha256, lock },
            {
              multipartThreshold: 5 * MiB,
              partSize: 5 * MiB,
              concurrency: 1,
              onMultipartCreated: (id) => void (saved.uploadId = id),
              onPartUploaded: (p) => void saved.parts.push(p.partNumber),
            },
          ),
        );
        expect(String(err)).toContain('simulated crash');
        expect(saved.parts).toEqual([1, 2]);

        // Restart: a new driver instance finds parts 1-2 on the target and sends only 3-4.
        const restarted = new CountingTarget(h.reopen(locked));
        expect((await restarted.listParts(key, saved.uploadId!)).map((p) => p.partNumber)).toEqual([1, 2]);
        const out = await uploadFile(
          restarted,
          { key, path: f.path, size: f.size, sha256: f.sha256, lock },
          {
            multipartThreshold: 5 * MiB,
            partSize: 5 * MiB,
            resume: { uploadId: saved.uploadId! },
          },
        );
        expect(out).toMatchObject({ multipart: true, partsReused: 2, partsSent: 2 });
        expect(restarted.partsSent.sort()).toEqual([3, 4]);
        expect(restarted.count('createMultipart')).toBe(0);
        expect(sha256(await readAll(await locked.get(key, out.versionId)))).toBe(f.sha256);
        expect(out.retention?.mode).toBe('GOVERNANCE');
        expect((await locked.listMultipartUploads(key)).map((u) => u.uploadId)).not.toContain(saved.uploadId);
      });

      it('starts over when the upload to resume is gone', async () => {
        const f = await localFile(5 * MiB + 10);
        const key = `${prefix()}gone.mov`;
        const { uploadId } = await locked.createMultipart(key, { size: f.size, sha256: f.sha256 });
        await locked.abortMultipart(key, uploadId);
        expect(isNotFound(await caught(locked.listParts(key, uploadId)))).toBe(true);
        const out = await uploadFile(
          locked,
          { key, path: f.path, size: f.size, sha256: f.sha256 },
          { multipartThreshold: 5 * MiB, partSize: 5 * MiB, resume: { uploadId } },
        );
        expect(out).toMatchObject({ multipart: true, partsReused: 0, partsSent: 2 });
      });

      it('lists stale multipart uploads and aborts them, keeping the ones being resumed', async () => {
        const p = prefix();
        const part = bytes(1000);
        const stale = await locked.createMultipart(`${p}stale-a`, { size: 1000, sha256: sha256(part) });
        await locked.uploadPart(`${p}stale-a`, stale.uploadId, 1, part, { contentMd5: md5(part) });
        const active = await locked.createMultipart(`${p}active-b`, { size: 1000, sha256: sha256(part) });

        const listed = await locked.listMultipartUploads(p);
        expect(listed.map((u) => u.uploadId).sort()).toEqual([stale.uploadId, active.uploadId].sort());
        for (const u of listed) expect(Math.abs(u.initiated.getTime() - Date.now())).toBeLessThan(5 * 60_000);

        const aborted = await abortStaleMultipartUploads(locked, p, {
          olderThan: new Date(Date.now() + 60_000),
          keep: new Set([active.uploadId]),
        });
        expect(aborted).toEqual([{ key: `${p}stale-a`, uploadId: stale.uploadId }]);
        expect((await locked.listMultipartUploads(p)).map((u) => u.uploadId)).toEqual([active.uploadId]);
        expect(isNotFound(await caught(locked.listParts(`${p}stale-a`, stale.uploadId)))).toBe(true);
        await locked.abortMultipart(`${p}active-b`, active.uploadId);
      });

      it('refuses a local file that does not match its catalog SHA-256, before sending anything', async () => {
        const f = await localFile(1000);
        const counting = new CountingTarget(locked);
        // A local fault, not the target's: it must never count against the target (nor be retried there).
        const err = await caught(
          uploadFile(counting, { key: `${prefix()}rotten`, path: f.path, size: f.size, sha256: sha256(bytes(1000)) }),
        );
        expect(err).toBeInstanceOf(LocalCopyDamaged);
        expect(isTargetError(err)).toBe(false);
        expect((err as LocalCopyDamaged).kind).toBe('mismatch');
        expect(counting.count('put')).toBe(0);
      });
    });

    describe('a target that ignores lock headers', () => {
      it('gets its retention (and legal hold) set afterwards, for one PUT and for a multipart upload', async () => {
        const ignoring = new LockHeadersIgnoredTarget(locked);
        const lock = lockFor('GOVERNANCE');
        const small = await localFile(1000);
        const big = await localFile(10 * MiB + 1);
        const p = prefix();

        const one = await uploadFile(ignoring, {
          key: `${p}one`,
          path: small.path,
          size: small.size,
          sha256: small.sha256,
          lock,
          legalHold: true,
        });
        expect(one).toMatchObject({ multipart: false, retentionFixed: true, legalHold: true });
        const many = await uploadFile(
          ignoring,
          { key: `${p}many`, path: big.path, size: big.size, sha256: big.sha256, lock },
          { multipartThreshold: 5 * MiB, partSize: 5 * MiB },
        );
        expect(many).toMatchObject({ multipart: true, retentionFixed: true });

        for (const [key, versionId] of [
          [`${p}one`, one.versionId],
          [`${p}many`, many.versionId],
        ]) {
          const r = await locked.getRetention(key, versionId);
          expect(r?.mode).toBe('GOVERNANCE');
          expect(Math.floor(r!.retainUntil.getTime() / 1000)).toBeGreaterThanOrEqual(Math.floor(lock.retainUntil.getTime() / 1000));
        }
        expect(await locked.getLegalHold(`${p}one`, one.versionId)).toBe(true);
        await locked.putLegalHold(`${p}one`, one.versionId, false);
      });

      it('is reported (permanent RetentionNotApplied) when retention cannot be set either', async () => {
        const f = await localFile(1000);
        const err = await caught(
          uploadFile(new RetentionIgnoredTarget(locked), {
            key: `${prefix()}never`,
            path: f.path,
            size: f.size,
            sha256: f.sha256,
            lock: lockFor('GOVERNANCE'),
          }),
        );
        expectPermanent(err, 'RetentionNotApplied');
      });
    });

    describe('preflight', () => {
      it('passes every named check, in order, on a bucket with Object Lock', async () => {
        const report = await locked.preflight();
        expect(report.checks.map((c) => c.name)).toEqual(PREFLIGHT_CHECKS.map((c) => c.name));
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.checks.find((c) => c.id === 'objectLock')!.detail).toMatch(/default retention: none/);
      });

      it('reports the default retention of a bucket that has one', async () => {
        const withDefault = await h.fresh({ objectLock: true, defaultRetention: { mode: 'GOVERNANCE', days: 1 } });
        const report = await withDefault.preflight();
        expect(report.ok).toBe(true);
        expect(report.defaultRetention).toEqual({ mode: 'GOVERNANCE', days: 1 });
        expect(report.checks.find((c) => c.id === 'objectLock')!.detail).toMatch(/GOVERNANCE 1 day/);
      });

      it('says "Object Lock on: no" with a reason for a bucket without it', async () => {
        const report = await plain.preflight();
        const lock = report.checks.find((c) => c.name === 'Object Lock on')!;
        expect(lock).toMatchObject({ ok: false, status: 'failed' });
        expect(lock.detail).toMatch(/^no\b/i);
        expect(report.ok).toBe(false);
        expect(report.checks.find((c) => c.id === 'retention')!.status).toBe('skipped');
        for (const id of ['reachable', 'credentials', 'bucket', 'put'] as const)
          expect(report.checks.find((c) => c.id === id)!.ok).toBe(true);
      });

      it('fails "bucket exists" for a missing bucket; calls fail as permanent and are not retried', async () => {
        const missing = h.missingBucket();
        const report = await missing.preflight();
        expect(report.ok).toBe(false);
        expect(report.checks.find((c) => c.id === 'bucket')!.status).toBe('failed');
        expect(report.checks.find((c) => c.id === 'put')!.status).toBe('skipped');

        const counting = new CountingTarget(missing);
        const err = await caught(
          new RetryingTarget(counting, { sleep: noSleep }).put(`${prefix()}x`, Buffer.from('x'), {
            size: 1,
            sha256: sha256(Buffer.from('x')),
            contentMd5: md5(Buffer.from('x')),
          }),
        );
        expectPermanent(err, 'BucketNotFound');
        expect(counting.count('put')).toBe(1);
        // a missing bucket is not a missing object (a HEAD 404 says nothing about which)
        expectPermanent(await caught(missing.head(`${prefix()}x`)), 'BucketNotFound');
      });

      it('fails "reachable" for a target that cannot be reached, and skips the rest', async () => {
        const report = await h.unreachable().preflight();
        expect(report.checks[0]).toMatchObject({ id: 'reachable', ok: false, status: 'failed' });
        expect(report.checks.slice(1).every((c) => c.status === 'skipped')).toBe(true);
      });

      (options.credentials === false ? it.skip : it)(
        'fails "credentials valid" for wrong credentials (permanent, never retried, never printed)',
        async () => {
          const bad = h.wrongCredentials!();
          const report = await bad.preflight();
          const cred = report.checks.find((c) => c.id === 'credentials')!;
          expect(cred).toMatchObject({ ok: false, status: 'failed', errorKind: 'permanent' });
          expect(report.checks.slice(2).every((c) => c.status === 'skipped')).toBe(true);
          expect(secretsIn(JSON.stringify(report))).toEqual([]);
          expect(secretsIn(`${bad.description} ${JSON.stringify(bad)} ${inspect(bad, { depth: 8 })}`)).toEqual([]);

          const counting = new CountingTarget(bad);
          const err = await caught(new RetryingTarget(counting, { sleep: noSleep }).head(`${prefix()}x`));
          expectPermanent(err);
          expect(counting.count('head')).toBe(1);
          expect(secretsIn(`${String(err)} ${(err as Error).stack ?? ''}`)).toEqual([]);
        },
      );
    });
  });
}
