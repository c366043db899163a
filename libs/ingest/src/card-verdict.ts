import { CardVerdict, ProtectionLevel, SafeToFormatRule } from '@studiovault/contracts';

export interface VerdictInput {
  rule: SafeToFormatRule;
  /** Files the CLI announced for the card (null: unknown). */
  announcedFiles: number | null;
  /** Files recorded for the card, by protection level (twins count with their original's level). */
  byLevel: Partial<Record<ProtectionLevel, number>>;
  uploadsInFlight: number;
  /** The two volumes share a device. */
  sameDevice: boolean;
  sameDeviceOverride: boolean;
  /** The card's ASC MHL generation is written and its files checked against the card's own history. */
  sealed: boolean;
  offsiteTargets: number;
  /** Files of the card whose off-site upload has started (or finished). */
  offsiteStarted: number;
  /** Volumes offline now (marker missing or foreign, device changed), with why. */
  offlineVolumes?: { role: string; reason: string }[];
  /** Files with a copy on an offline volume: that copy is unreachable and counts as no copy. */
  unreachable?: number;
}

const LOCAL_OK: ProtectionLevel[] = [ProtectionLevel.Verified, ProtectionLevel.Offsite, ProtectionLevel.Immutable, ProtectionLevel.Drilled];

/**
 * "Safe to format", fail-closed: every condition must be shown true; anything unknown is
 * "not safe", with the first reason a person needs to act on.
 */
export function cardVerdict(v: VerdictInput): CardVerdict {
  const count = (l: ProtectionLevel) => v.byLevel[l] ?? 0;
  const total = Object.values(v.byLevel).reduce((a, b) => a + (b ?? 0), 0);
  const verified = LOCAL_OK.reduce((a, l) => a + count(l), 0);
  if (total === 0) return { safe: false, reason: 'no files recorded for this card yet' };
  if (count(ProtectionLevel.AtRisk) > 0)
    return { safe: false, reason: `${count(ProtectionLevel.AtRisk)} file(s) at risk: a copy is damaged or missing` };
  // A copy on an offline volume is not a copy: no card is safe while a volume is offline.
  const [offline] = v.offlineVolumes ?? [];
  if (offline) {
    const files = v.unreachable ? `: ${v.unreachable} file(s) with a copy unreachable` : '';
    return { safe: false, reason: `${offline.role} volume offline (${offline.reason})${files}` };
  }
  if (v.uploadsInFlight > 0) return { safe: false, reason: `${v.uploadsInFlight} file(s) still uploading` };
  if (v.announcedFiles === null) return { safe: false, reason: 'the card was not announced: its file count is unknown' };
  if (total < v.announcedFiles) return { safe: false, reason: `${v.announcedFiles - total} of ${v.announcedFiles} file(s) not received` };
  if (v.sameDevice && !v.sameDeviceOverride) return { safe: false, reason: 'both volumes are on the same device: not two media' };
  if (verified < total) return { safe: false, reason: `${total - verified} of ${total} file(s) not yet verified on two devices` };
  if (!v.sealed) return { safe: false, reason: 'writing the ASC MHL seal of the card' };
  if (v.rule === SafeToFormatRule.TwoLocalAndOffsiteStarted) {
    if (v.offsiteTargets === 0) return { safe: false, reason: 'no off-site target' };
    if (v.offsiteStarted < total)
      return { safe: false, reason: `${total - v.offsiteStarted} of ${total} file(s) not yet started off-site` };
  }
  const where = v.sameDevice ? 'two copies on one device (admin override)' : 'two devices';
  return {
    safe: true,
    reason: `${total} file(s) verified on ${where}${v.rule === SafeToFormatRule.TwoLocalAndOffsiteStarted ? ', off-site started' : ''}`,
  };
}
