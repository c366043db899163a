import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface FailureCount {
  /** Failures in the current window, this one included. */
  failures: number;
  windowStartedAt: Date;
  /** The store's clock (the database's), so every replica measures delays alike. */
  now: Date;
}

/** Where failed sign-ins are counted. The limiter holds the rules; a store only counts. */
export abstract class LoginFailureStore {
  /** The latest block in force on any of the keys, or null. */
  abstract blockedUntil(keys: string[]): Promise<{ until: Date; now: Date } | null>;
  /**
   * Counts one failure. The count starts again when the window is over: `resetAfterMs` after the
   * first failure of the window (`from: 'first'`) or after the last failure (`from: 'last'`).
   */
  abstract recordFailure(key: string, resetAfterMs: number, from: 'first' | 'last'): Promise<FailureCount>;
  abstract block(key: string, until: Date): Promise<void>;
  abstract clear(key: string): Promise<void>;
  /** Forgets keys without a failure for `olderThanMs` and without a block in force. */
  abstract purge(olderThanMs: number): Promise<number>;
}

/** Counts in the catalog's `login_failures`, so several API replicas count together. */
@Injectable()
export class PgLoginFailureStore extends LoginFailureStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  async blockedUntil(keys: string[]): Promise<{ until: Date; now: Date } | null> {
    const rows: { until: Date | null; now: Date }[] = await this.db.query(
      `SELECT max(blocked_until) AS until, now() AS now FROM login_failures WHERE key = ANY($1) AND blocked_until > now()`,
      [keys],
    );
    const row = rows[0];
    return row?.until ? { until: new Date(row.until), now: new Date(row.now) } : null;
  }

  async recordFailure(key: string, resetAfterMs: number, from: 'first' | 'last'): Promise<FailureCount> {
    const since = from === 'first' ? 'lf.window_started_at' : 'lf.last_failed_at';
    const rows: { failures: number; window_started_at: Date; now: Date }[] = await this.db.query(
      `INSERT INTO login_failures AS lf (key, failures, window_started_at, last_failed_at)
       VALUES ($1, 1, now(), now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN ${since} <= now() - make_interval(secs => $2) THEN 1 ELSE lf.failures + 1 END,
         window_started_at = CASE WHEN ${since} <= now() - make_interval(secs => $2) THEN now() ELSE lf.window_started_at END,
         last_failed_at = now()
       RETURNING failures, window_started_at, now() AS now`,
      [key, resetAfterMs / 1000],
    );
    const row = rows[0];
    return { failures: Number(row.failures), windowStartedAt: new Date(row.window_started_at), now: new Date(row.now) };
  }

  async block(key: string, until: Date): Promise<void> {
    await this.db.query(`UPDATE login_failures SET blocked_until = GREATEST(blocked_until, $2) WHERE key = $1`, [key, until]);
  }

  async clear(key: string): Promise<void> {
    await this.db.query(`DELETE FROM login_failures WHERE key = $1`, [key]);
  }

  async purge(olderThanMs: number): Promise<number> {
    const res: [unknown[], number] = await this.db.query(
      `DELETE FROM login_failures WHERE last_failed_at < now() - make_interval(secs => $1)
         AND (blocked_until IS NULL OR blocked_until < now())`,
      [olderThanMs / 1000],
    );
    return res[1] ?? 0;
  }
}
