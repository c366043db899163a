import { createHash } from 'node:crypto';
import { Xxh64 } from '@node-rs/xxhash';
import * as tus from 'tus-js-client';
import { JobRunner } from '@studiovault/jobs';
import { readSetupCode, startTestApp, TestApp } from '@studiovault/testing';
import { createApiApp } from '../../apps/api/src/application';

export const ADMIN = { email: 'admin@studio.test', name: 'Ada', password: 'correct horse battery' };

export interface IngestApp extends TestApp {
  base: string;
  admin: string;
}

/** The real API with its worker running in-process (fast polling), listening on a port. */
export async function startIngestApp(env: Record<string, string>, existingDbUrl?: string): Promise<IngestApp> {
  const t = await startTestApp(
    (opts) => createApiApp({ ...opts, jobPollingSeconds: 0.5, maintenanceIntervalSeconds: 1 }),
    { STUDIOVAULT_SPACE_MARGIN_MB: '1', ...env },
    existingDbUrl,
  );
  await t.app.listen(0, '127.0.0.1');
  const { VolumesService } = await import('@studiovault/volumes');
  await t.app.get(VolumesService).registerConfigured();
  await t.app.get(JobRunner).start();
  const base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
  let admin: string;
  if ((await t.http().get('/api/setup')).body.needsSetup) {
    await t
      .http()
      .post('/api/setup')
      .send({ ...ADMIN, setupCode: await readSetupCode(t.dataDir) })
      .expect(200);
  }
  {
    const r = await t
      .http()
      .post('/api/auth/token')
      .send({ email: ADMIN.email, password: ADMIN.password, tokenName: `t-${Date.now()}-${Math.random()}` })
      .expect(200);
    admin = r.body.token;
  }
  return Object.assign(t, { base, admin });
}

export function sourceHashes(data: Buffer): { xxh64: string; sha256: string } {
  return {
    xxh64: new Xxh64().update(data).digest().toString(16).padStart(16, '0'),
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

export interface TusOptions {
  base: string;
  token: string;
  cardId: string;
  relativePath: string;
  data: Buffer;
  chunkSize?: number;
  /** Abort after this many bytes were accepted (a pulled cable). */
  stopAfter?: number;
  uploadUrl?: string;
  metadata?: Record<string, string>;
}

/** Uploads with tus-js-client, the reference tus client. Resolves with the upload URL. */
export function tusUpload(o: TusOptions): Promise<{ url: string; stoppedAt?: number }> {
  return new Promise((resolve, reject) => {
    let stopped = false;
    const upload: tus.Upload = new tus.Upload(o.data, {
      endpoint: `${o.base}/files`,
      uploadUrl: o.uploadUrl,
      headers: { Authorization: `Bearer ${o.token}` },
      metadata: { cardId: o.cardId, relativePath: o.relativePath, ...(o.metadata ?? {}) },
      uploadSize: o.data.length,
      chunkSize: o.chunkSize ?? Infinity,
      retryDelays: [],
      removeFingerprintOnSuccess: true,
      storeFingerprintForResuming: false,
      onChunkComplete: (_chunk, accepted) => {
        if (o.stopAfter !== undefined && accepted >= o.stopAfter && !stopped) {
          stopped = true;
          void upload.abort(false).then(() => resolve({ url: upload.url!, stoppedAt: accepted }));
        }
      },
      onSuccess: () => resolve({ url: upload.url! }),
      onError: (err) => reject(err),
    });
    upload.start();
  });
}

export function uploadId(url: string): string {
  return url.split('/').pop()!;
}

export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
