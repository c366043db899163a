import { InvalidArgumentError } from 'commander';
import { compileRestorePattern, SLUG_PATTERN } from '@studiovault/contracts';

/**
 * Checks of what the user typed, done on the workstation where it is cheap; the server checks
 * everything again. Each throws an Error whose message is shown after the option name.
 */

/** `http(s)://host[:port][/prefix]`, without a trailing slash, query or credentials. */
export function normalizeServerUrl(raw: string): string {
  const value = raw.trim();
  if (!value) throw new Error('the server URL is empty');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL; write it as http://HOST:PORT, e.g. http://nas.local:3210`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the server URL must start with http:// or https:// (got "${value}"), e.g. http://nas.local:3210`);
  }
  if (!url.hostname) throw new Error(`the server URL has no host name: "${value}"`);
  if (url.username || url.password) throw new Error('put no user name or password in the server URL; run studiovault login instead');
  if (url.search || url.hash) throw new Error(`the server URL must not have a query or fragment: "${value}"`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function positiveInt(max: number): (raw: string) => number {
  return (raw) => {
    const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`must be a whole number from 1 to ${max}`);
    return n;
  };
}

export function nonNegativeInt(raw: string): number {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error('must be a whole number, 0 or more');
  return n;
}

/** A calendar date as YYYY-MM-DD (2026-02-30 is refused). */
export function isoDate(raw: string): string {
  const value = raw.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== value) throw new Error('must be a date written YYYY-MM-DD, e.g. 2026-09-12');
  return value;
}

export function slug(raw: string): string {
  const value = raw.trim();
  if (!SLUG_PATTERN.test(value)) {
    throw new Error(`"${value}" is not a slug: lowercase letters, digits and dashes (up to 64), not starting or ending with a dash`);
  }
  return value;
}

/** Adapts a check to commander: its errors become usage errors naming the option. */
export function option<T>(check: (raw: string) => T): (raw: string) => T {
  return (raw) => {
    try {
      return check(raw);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** A --path restore pattern: the server's rule (compileRestorePattern), checked early; kept as typed. */
export function restorePatternArg(raw: string): string {
  compileRestorePattern(raw);
  return raw;
}

/** A card label (a folder name on the NAS): the rules of the server's parseCardLabel, checked early. */
export function cardLabel(raw: string): string {
  const value = raw.normalize('NFC').trim();
  if (!value) throw new Error('the card label must not be blank');
  if (value.length > 100) throw new Error('the card label must have at most 100 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value) || /[/\\]/.test(value) || value.startsWith('.')) {
    throw new Error(`"${value}" cannot be a card label: a plain folder name, without "/", "\\", control characters or a leading "."`);
  }
  return value;
}

/** An off-site target's name: the rules of the server's CreateTargetDto, checked early. */
export function targetName(raw: string): string {
  const value = raw.normalize('NFC').trim();
  if (!value) throw new Error('the target name must not be blank');
  if (value.length > 64) throw new Error('the target name must have at most 64 characters');
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u.test(value)) {
    throw new Error(
      `"${value}" cannot be a target name: letters, digits, spaces, dots, hyphens and underscores, starting with a letter or digit`,
    );
  }
  return value;
}

/** An S3 endpoint: `http(s)://host[:port][/path]`, without credentials, query or trailing slash. */
export function endpointUrl(raw: string): string {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL, e.g. https://s3.eu-central-003.backblazeb2.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`the endpoint must start with http:// or https:// (got "${value}")`);
  if (url.username || url.password)
    throw new Error('put no user name or password in the endpoint; use --access-key-id and the secret key file');
  if (url.search || url.hash) throw new Error(`the endpoint must not have a query or fragment: "${value}"`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Object Lock mode, as typed (any case): GOVERNANCE or COMPLIANCE. */
export function lockMode(raw: string): 'GOVERNANCE' | 'COMPLIANCE' {
  const value = raw.trim().toUpperCase();
  if (value !== 'GOVERNANCE' && value !== 'COMPLIANCE') throw new Error('must be governance or compliance');
  return value;
}

/** A path on the server (a Linux NAS): absolute, whatever the workstation's system. */
export function serverPath(raw: string): string {
  const value = raw.trim();
  if (!value.startsWith('/')) throw new Error(`must be an absolute path on the server, e.g. /mnt/usb-backup (got "${value}")`);
  if (value.includes('\0')) throw new Error('must not contain a NUL character');
  return value;
}
