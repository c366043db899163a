import type { CookieOptions, Response } from 'express';
import { AppConfig } from '@studiovault/config';
import { SESSION_COOKIE } from '../auth/strategies';

export function cookieOptions(config: AppConfig, maxAgeMs?: number): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: config.security.cookieSecure, path: '/', maxAge: maxAgeMs };
}

export function setSessionCookie(res: Response, config: AppConfig, token: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, token, cookieOptions(config, maxAgeMs));
}

export function clearSessionCookie(res: Response, config: AppConfig): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(config));
}
