import type { Schemas } from '@studiovault/api-client';

export type ProtectionLevel = Schemas['ProtectionLevel'];
export type CardState = Schemas['CardState'];
export type Card = Schemas['CardDto'];
export type CardFile = Schemas['CardFileDto'];
export type FileCopy = Schemas['CopyDto'];

/** The protection levels in the order of DESIGN.md, with its names and what each one claims. */
export const PROTECTION_LEVELS: { level: ProtectionLevel; label: string; meaning: string }[] = [
  { level: 'uploading', label: 'uploading', meaning: 'bytes still arriving' },
  { level: 'copied', label: 'copied', meaning: 'two local copies written, not yet verified' },
  { level: 'verified', label: 'verified', meaning: 'two local copies re-read and hash-matched on two devices' },
  { level: 'offsite', label: 'off-site', meaning: 'an off-site copy uploaded and its checksum confirmed by the target' },
  { level: 'immutable', label: 'immutable (locked)', meaning: 'the off-site copy’s Object Lock retention read back and in force' },
  { level: 'drilled', label: 'drilled', meaning: 'restored in a drill with zero errors since its last change' },
  { level: 'at_risk', label: 'at risk', meaning: 'a check failed: a mismatch, a missing copy, a lock not in force, a drill error' },
];

export const PROTECTION_LABELS: Record<string, string> = Object.fromEntries(PROTECTION_LEVELS.map((l) => [l.level, l.label]));
export const PROTECTION_MEANINGS: Record<string, string> = Object.fromEntries(PROTECTION_LEVELS.map((l) => [l.level, l.meaning]));

/** Levels that include two verified local copies (and may add off-site, lock, drill on top). */
const LOCALLY_VERIFIED = new Set<string>(['verified', 'offsite', 'immutable', 'drilled']);

export function isLocallyVerified(level: string): boolean {
  return LOCALLY_VERIFIED.has(level);
}

/** Card states in the people's words. */
export const CARD_STATE_LABELS: Record<CardState, string> = {
  announced: 'waiting for files',
  uploading: 'uploading',
  copied: 'copied, not yet verified',
  verifying: 'verifying',
  verified: 'verified',
  at_risk: 'at risk',
};

/**
 * States in which a card still changes on its own: the portal keeps polling while any card is in
 * one. "announced" counts: the uploader announces a card a moment before its first byte.
 */
const BUSY_STATES = new Set<CardState>(['announced', 'uploading', 'copied', 'verifying']);

/**
 * True while the card is still changing: bytes arriving, or files waiting for their read-back
 * (a card keeps its "verified" state until the worker has re-read a file added later).
 * One exception: with both volumes on one device (and no admin override) files stay "copied"
 * for good, so once nothing is uploading such a card is settled.
 */
export function isCardBusy(card: Card, sameDeviceOverride = false): boolean {
  if (card.uploadsInFlight > 0 || card.state === 'announced' || card.state === 'uploading') return true;
  if (card.sameDevice && !sameDeviceOverride) return card.state === 'verifying';
  return BUSY_STATES.has(card.state) || card.levels.copied > 0 || card.levels.uploading > 0;
}

/**
 * Files per level for the bar. No catalog file is ever "uploading" (a file enters the catalog
 * when it is sealed), so the uploads in flight are shown as that level.
 */
export function levelCounts(card: Card): { level: ProtectionLevel; label: string; meaning: string; count: number }[] {
  return PROTECTION_LEVELS.map((l) => ({
    ...l,
    count: (card.levels[l.level] ?? 0) + (l.level === 'uploading' ? card.uploadsInFlight : 0),
  }));
}

/** Files announced by the uploader that have not arrived (neither recorded nor uploading). */
export function notReceived(card: Card): number {
  if (card.announcedFiles === null) return 0;
  const known = PROTECTION_LEVELS.reduce((a, l) => a + (card.levels[l.level] ?? 0), 0) + card.uploadsInFlight;
  return Math.max(0, card.announcedFiles - known);
}

/** "Canon EOS R5 · #0123", or '' when the card did not say. */
export function cameraOf(card: Pick<Card, 'cameraMake' | 'cameraModel' | 'cameraSerial'>): string {
  const model = card.cameraModel ?? '';
  const make = card.cameraMake ?? '';
  // EXIF models often repeat the make ("Canon" + "Canon EOS R5").
  const name = make && model.toLowerCase().startsWith(make.toLowerCase()) ? model : [make, model].filter(Boolean).join(' ');
  return [name, card.cameraSerial ? `#${card.cameraSerial}` : ''].filter(Boolean).join(' · ');
}

/** Files with an off-site copy (off-site, and the levels above it). */
export function offsiteFiles(levels: Card['levels']): number {
  return levels.offsite + levels.immutable + levels.drilled;
}

/** Files whose off-site copy's lock was read back in force (immutable, and drilled above it). */
export function immutableFiles(levels: Card['levels']): number {
  return levels.immutable + levels.drilled;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** A copy's state in words: "verified (read from the device, O_DIRECT)", "mismatch", … */
export function copyStateLabel(copy: FileCopy): string {
  switch (copy.state) {
    case 'verified':
      return copy.verifyMethod === 'o_direct'
        ? 'verified via O_DIRECT'
        : copy.verifyMethod === 'plain'
          ? 'verified (plain read)'
          : 'verified';
    case 'written':
      return 'written, not yet verified';
    case 'mismatch':
      return 'mismatch';
    case 'missing':
      return 'missing';
    case 'unreachable':
      return 'unreachable: its volume is offline';
    default:
      return copy.state;
  }
}

/** First characters of a hash, for tables (the full value is in the title). */
export function shortHash(hash: string | null | undefined, n = 16): string {
  if (!hash) return '—';
  return hash.length > n ? `${hash.slice(0, n)}…` : hash;
}
