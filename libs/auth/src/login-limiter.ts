import { Inject, Injectable } from '@nestjs/common';
import { AppConfig, CONFIG } from '@studiovault/config';

const WINDOW_MS = 15 * 60 * 1000;

/**
 * Failed-login limiter: per account and (five times wider) per client address, a sliding 15-minute window.
 * Kept in memory: a studio runs one or a few API processes, and each still caps guessing.
 */
@Injectable()
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;

  constructor(@Inject(CONFIG) config: AppConfig) {
    this.max = config.security.loginAttempts;
  }

  /** Seconds until another attempt is allowed, or 0. */
  retryAfter(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.limitFor(key)) wait = Math.max(wait, Math.ceil((recent[0] + WINDOW_MS - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) this.failures.set(key, [...this.recent(key, now), now]);
    if (this.failures.size > 100_000) this.prune(now);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  /** A studio shares one address behind its router: the per-address limit is wider than the per-account one. */
  private limitFor(key: string): number {
    return key.startsWith('ip:') ? this.max * 5 : this.max;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
  }

  private prune(now: number): void {
    for (const [key] of this.failures) if (!this.recent(key, now).length) this.failures.delete(key);
  }
}
