import { Inject, Injectable } from '@nestjs/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { LoginFailureStore } from './login-failure.store';

/** One address's failures on any account are capped per 15 minutes. */
export const ADDRESS_WINDOW_MS = 15 * 60_000;
/** An address's failures on one account are remembered for a day after the last one. */
export const PAIR_MEMORY_MS = 24 * 3600_000;
export const FIRST_DELAY_S = 30;
export const MAX_DELAY_S = 15 * 60;
/** A studio shares one address behind its router: the cap per address is wider than per account. */
export const ADDRESS_FACTOR = 5;

/**
 * Failed-sign-in limiter. Failures count per (account, address): after `loginAttempts` of them
 * that address waits 30 s before its next try on that account, doubling with every further
 * failure up to 15 min, so a guesser slows only themself and the account's owner still signs in
 * from elsewhere. Every address also has a cap across all accounts (5 x `loginAttempts` failures
 * in 15 minutes), so one address cannot spray many accounts. Counted in a `LoginFailureStore`
 * (Postgres), so every API replica counts together.
 */
@Injectable()
export class LoginLimiter {
  private readonly max: number;

  constructor(
    private readonly store: LoginFailureStore,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.max = config.security.loginAttempts;
  }

  /** Seconds until this address may try this account again, or 0. */
  async retryAfter(email: string, address: string): Promise<number> {
    const block = await this.store.blockedUntil([pairKey(email, address), addressKey(address)]);
    return block ? Math.max(1, Math.ceil((block.until.getTime() - block.now.getTime()) / 1000)) : 0;
  }

  async fail(email: string, address: string): Promise<void> {
    const pair = await this.store.recordFailure(pairKey(email, address), PAIR_MEMORY_MS, 'last');
    if (pair.failures >= this.max) {
      const delay = Math.min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** Math.min(pair.failures - this.max, 20));
      await this.store.block(pairKey(email, address), new Date(pair.now.getTime() + delay * 1000));
    }
    const all = await this.store.recordFailure(addressKey(address), ADDRESS_WINDOW_MS, 'first');
    if (all.failures >= this.max * ADDRESS_FACTOR) {
      await this.store.block(addressKey(address), new Date(all.windowStartedAt.getTime() + ADDRESS_WINDOW_MS));
    }
  }

  /** A right password forgets this address's failures on this account (not its cap across accounts). */
  async succeed(email: string, address: string): Promise<void> {
    await this.store.clear(pairKey(email, address));
  }

  purge(): Promise<number> {
    return this.store.purge(PAIR_MEMORY_MS);
  }
}

function pairKey(email: string, address: string): string {
  return `pair:${address.slice(0, 64)}|${email.toLowerCase().trim().slice(0, 254)}`;
}

function addressKey(address: string): string {
  return `address:${address.slice(0, 64)}`;
}
