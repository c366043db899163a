import { TargetError } from './errors';
import type { LockMode, OffsiteTarget, Retention } from './target';

/**
 * Retain-until dates go over the wire in whole seconds (RGW keeps the seconds of a PUT's
 * x-amz-object-lock-retain-until-date and drops the fraction), so StudioVault always asks for
 * a whole second, rounded up: truncation on the server can then never shorten a lock.
 */
export function wholeSecondUp(date: Date): Date {
  return new Date(Math.ceil(date.getTime() / 1000) * 1000);
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

const STRENGTH: Record<LockMode, number> = { GOVERNANCE: 1, COMPLIANCE: 2 };

/** `current` keeps the version at least as long and at least as strictly as `wanted`. */
export function retentionCovers(current: Retention | null, wanted: Retention): boolean {
  if (!current) return false;
  return STRENGTH[current.mode] >= STRENGTH[wanted.mode] && seconds(current.retainUntil) >= seconds(wholeSecondUp(wanted.retainUntil));
}

export function retentionInForce(retention: Retention | null, now = new Date()): retention is Retention {
  return !!retention && retention.retainUntil.getTime() > now.getTime();
}

/**
 * The retention a writer can set to satisfy `wanted` without a bypass: the later date, under
 * the mode in force (S3 and RGW change a mode in force only with governance bypass, and never
 * away from COMPLIANCE), or the wanted mode when none is in force.
 */
export function mergeRetention(current: Retention | null, wanted: Retention, now = new Date()): Retention {
  const until = wholeSecondUp(wanted.retainUntil);
  if (!retentionInForce(current, now)) return { mode: wanted.mode, retainUntil: until };
  return { mode: current.mode, retainUntil: current.retainUntil.getTime() > until.getTime() ? current.retainUntil : until };
}

/**
 * Retention only ever grows, in the mode it has: a shorter date or a change of mode while a
 * retention is in force is refused (permanent), as a server refuses it without bypass.
 */
export function assertRetentionExtends(current: Retention | null, wanted: Retention, what: string, now = new Date()): void {
  if (!retentionInForce(current, now)) return;
  if (wanted.mode !== current.mode) {
    throw new TargetError(
      'permanent',
      'RetentionChangeRefused',
      `${what}: refusing to change retention in force from ${current.mode} to ${wanted.mode}`,
    );
  }
  if (seconds(wanted.retainUntil) < seconds(current.retainUntil)) {
    throw new TargetError(
      'permanent',
      'RetentionChangeRefused',
      `${what}: refusing to shorten retention from ${current.retainUntil.toISOString()} to ${wanted.retainUntil.toISOString()}`,
    );
  }
}

export interface EnsuredRetention {
  /** As read back from the target after the last change. */
  retention: Retention;
  /** The upload's lock headers had not taken (or were weaker) and PutObjectRetention set it. */
  fixed: boolean;
}

/**
 * The proof behind "immutable": reads a version's retention back; if it is missing or shorter
 * than wanted (a provider may accept an upload and silently drop its lock headers; RGW 16 does
 * so for CreateMultipartUpload), sets it with putRetention and reads it back again. Only ever
 * extends. Throws RetentionNotApplied (permanent) when the target still does not report the
 * wanted retention, or holds the version in GOVERNANCE where COMPLIANCE is wanted (changing a
 * mode in force needs the maintenance credential; the date is extended first all the same).
 */
export async function ensureRetention(target: OffsiteTarget, key: string, versionId: string, wanted: Retention): Promise<EnsuredRetention> {
  const what = `${target.description}: ${key} (${versionId})`;
  const current = await target.getRetention(key, versionId);
  if (retentionCovers(current, wanted)) return { retention: current!, fixed: false };

  const next = mergeRetention(current, wanted);
  let after = current;
  if (!current || seconds(next.retainUntil) > seconds(current.retainUntil) || next.mode !== current.mode) {
    await target.putRetention(key, versionId, next);
    after = await target.getRetention(key, versionId);
  }
  if (!retentionCovers(after, wanted)) {
    const found = after ? `${after.mode} until ${after.retainUntil.toISOString()}` : 'none';
    const why =
      after && after.mode !== wanted.mode && retentionInForce(after)
        ? ' (changing the mode of a retention in force needs the maintenance credential)'
        : '';
    throw new TargetError(
      'permanent',
      'RetentionNotApplied',
      `${what}: retention is ${found}, wanted ${wanted.mode} until ${wanted.retainUntil.toISOString()}${why}`,
    );
  }
  return { retention: after!, fixed: true };
}
