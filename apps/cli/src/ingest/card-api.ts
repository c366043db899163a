import type { Schemas } from '@studiovault/api-client';
import type { Api } from '../api';
import { CliError, CliErrorCode } from '../errors';
import type { SourceHashes } from './hashing-reader';

export type Card = Schemas['CardDto'];
export type CardFile = Schemas['CardFileDto'];
export type SealResult = Omit<Schemas['SealResultDto'], 'outcome'> & { outcome: string };

/** Levels that mean "verified on two devices" (or better). */
export const VERIFIED_LEVELS = ['verified', 'offsite', 'immutable', 'drilled'] as const;

export function isVerified(protection: string): boolean {
  return (VERIFIED_LEVELS as readonly string[]).includes(protection);
}

export function verifiedCount(card: Card): number {
  return VERIFIED_LEVELS.reduce((a, l) => a + (card.levels[l] ?? 0), 0);
}

export function totalCount(card: Card): number {
  return Object.values(card.levels).reduce((a, n) => a + (n ?? 0), 0);
}

/** The server's page limit of a card's files. */
const FILES_PAGE = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits between tries of a call that failed because the server could not be reached. */
export const CALL_RETRY_DELAYS = [1000, 3000, 5000, 10_000, 15_000, 30_000, 30_000, 60_000];

/**
 * The server is away for a moment: not reachable (restarting, a pulled cable), a proxy's 502-504,
 * or a 5xx of its own (its database restarting: 503 DATABASE_UNAVAILABLE). Another try can work.
 */
export function isTransient(err: unknown): err is CliError {
  return err instanceof CliError && (err.code === CliErrorCode.ServerUnreachable || (err.status !== undefined && err.status >= 500));
}

/** Calls again while the server is away (see isTransient); any other answer from the server is final. */
export async function withReachRetry<T>(
  call: () => Promise<T>,
  delays: readonly number[] = CALL_RETRY_DELAYS,
  onRetry?: (err: CliError, delay: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || attempt >= delays.length) throw err;
      onRetry?.(err, delays[attempt]);
      await sleep(delays[attempt]);
    }
  }
}

/** Waits between tries while the server is away during a wait with a deadline. */
export const OUTAGE_DELAYS = [500, 1000, 2000, 3000, 5000];

/**
 * Calls until it answers or `deadline` (ms since epoch) passes, through any outage of the server
 * (restarts, connection refused, 5xx), with backoff. `onOutage` is told once when an outage
 * starts; the error of the last try is thrown once the deadline has passed.
 */
export async function untilAnswered<T>(call: () => Promise<T>, deadline: number, onOutage?: (err: CliError) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= deadline) throw err;
      if (attempt === 0) onOutage?.(err);
      await sleep(Math.min(OUTAGE_DELAYS[Math.min(attempt, OUTAGE_DELAYS.length - 1)], Math.max(0, deadline - Date.now())));
    }
  }
}

export class CardApi {
  constructor(readonly api: Api) {}

  /** Announces the card before its first byte; `created` false: the project already has a card with that label. */
  async announce(project: string, body: { label: string; files: number; bytes: number }): Promise<{ card: Card; created: boolean }> {
    let created = false;
    const card = await this.api.call(
      this.api.client.POST('/api/projects/{slug}/cards', { params: { path: { slug: project } }, body }).then((r) => {
        created = r.response.status === 201;
        return r;
      }),
    );
    return { card, created };
  }

  card(id: string): Promise<Card> {
    return this.api.call(this.api.client.GET('/api/cards/{id}', { params: { path: { id } } }));
  }

  projectCards(project: string): Promise<Card[]> {
    return this.api.call(this.api.client.GET('/api/projects/{slug}/cards', { params: { path: { slug: project } } }));
  }

  /** All files of a card (every page). */
  async files(id: string): Promise<CardFile[]> {
    const all: CardFile[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.api.call(
        this.api.client.GET('/api/cards/{id}/files', { params: { path: { id }, query: { limit: FILES_PAGE, after } } }),
      );
      all.push(...page.items);
      if (!page.nextCursor || page.items.length === 0) return all;
      after = page.nextCursor;
    }
  }

  seal(uploadId: string, hashes: SourceHashes): Promise<SealResult> {
    return this.api.call(
      this.api.client.POST('/api/uploads/{id}/seal', {
        params: { path: { id: uploadId } },
        body: { xxh64: hashes.xxh64, sha256: hashes.sha256 },
      }),
    ) as Promise<SealResult>;
  }
}

/** What to show for a file that is not verified: its level, the reason, and for a mismatch both hashes. */
export function describeUnverified(f: CardFile): {
  relativePath: string;
  protection: string;
  reason: string | null;
  expectedXxh64: string | null;
  copies: CardFile['copies'];
} {
  return { relativePath: f.relativePath, protection: f.protection, reason: f.protectionReason, expectedXxh64: f.xxh64, copies: f.copies };
}

/** Lines for people: "DCIM/IMG_1.CR3: at risk: mirror copy: card xxh64 0123…, observed 4567…". */
export function unverifiedLines(f: CardFile): string[] {
  const head = `${f.relativePath}: ${f.protection.replace('_', ' ')}${f.protectionReason ? ` (${f.protectionReason})` : ''}`;
  const lines = [head];
  for (const c of f.copies) {
    if (c.state === 'verified') continue;
    const observed = c.observedXxh64 ? `observed xxh64 ${c.observedXxh64}` : `nothing read back${c.error ? ` (${c.error})` : ''}`;
    lines.push(`  ${c.volume} copy ${c.state}: expected xxh64 ${f.xxh64 ?? '?'} (card), ${observed}`);
  }
  return lines;
}
