/**
 * A card ingest the way a workstation does it, over HTTP only (no server internals): announce
 * the card, upload each file with tus-js-client (the reference tus client), seal it with the
 * hashes taken from the source. The end-to-end tests use it to fill cards behind the portal.
 */
import { createHash } from 'node:crypto';
import { Xxh64 } from '@node-rs/xxhash';
import * as tus from 'tus-js-client';

export interface Hashes {
  xxh64: string;
  sha256: string;
}

export function sourceHashes(data: Buffer): Hashes {
  return {
    xxh64: new Xxh64().update(data).digest().toString(16).padStart(16, '0'),
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

export class IngestClient {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  async json<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async announce(
    slug: string,
    card: { label: string; files?: number; bytes?: number; cameraMake?: string; cameraModel?: string; cameraSerial?: string },
  ) {
    const res = await this.json<{ id: string; state: string }>('POST', `/api/projects/${slug}/cards`, card);
    if (res.status !== 201 && res.status !== 200) throw new Error(`announce ${card.label}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Uploads one file with tus; resolves with the upload id (the last segment of its URL). */
  upload(cardId: string, relativePath: string, data: Buffer, mtime = new Date('2026-09-12T14:03:00Z')): Promise<string> {
    return new Promise((resolve, reject) => {
      const upload: tus.Upload = new tus.Upload(data, {
        endpoint: `${this.base}/files`,
        headers: { Authorization: `Bearer ${this.token}` },
        metadata: { cardId, relativePath, mtime: mtime.toISOString() },
        uploadSize: data.length,
        chunkSize: Infinity,
        retryDelays: [],
        storeFingerprintForResuming: false,
        onSuccess: () => resolve(upload.url!.split('/').pop()!),
        onError: (err) => reject(err),
      });
      upload.start();
    });
  }

  async seal(uploadId: string, hashes: Hashes) {
    const res = await this.json<{ outcome: string; protection: string }>('POST', `/api/uploads/${uploadId}/seal`, hashes);
    if (res.status !== 200) throw new Error(`seal ${uploadId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async send(cardId: string, relativePath: string, data: Buffer) {
    return this.seal(await this.upload(cardId, relativePath, data), sourceHashes(data));
  }

  async card(id: string) {
    const res = await this.json<{ id: string; state: string; verdict: { safe: boolean; reason: string }; levels: Record<string, number> }>(
      'GET',
      `/api/cards/${id}`,
    );
    if (res.status !== 200) throw new Error(`card ${id}: HTTP ${res.status}`);
    return res.body;
  }
}

export async function waitUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
