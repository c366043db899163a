import { ProtectionLevel, SafeToFormatRule } from '@studiovault/contracts';
import { cardVerdict, VerdictInput } from './card-verdict';

const safe: VerdictInput = {
  rule: SafeToFormatRule.TwoLocal,
  announcedFiles: 3,
  byLevel: { [ProtectionLevel.Verified]: 3 },
  uploadsInFlight: 0,
  sameDevice: false,
  sameDeviceOverride: false,
  sealed: true,
  offsiteTargets: 0,
  offsiteStarted: 0,
};

describe('safe to format: fail-closed', () => {
  it('is safe only when every condition is shown true', () => {
    expect(cardVerdict(safe)).toEqual({ safe: true, reason: '3 file(s) verified on two devices' });
  });

  it.each<[string, Partial<VerdictInput>, RegExp]>([
    ['no files', { byLevel: {} }, /no files recorded/],
    ['a file at risk', { byLevel: { verified: 2, at_risk: 1 } }, /1 file\(s\) at risk/],
    ['uploads in flight', { uploadsInFlight: 1 }, /still uploading/],
    ['an unknown file count', { announcedFiles: null }, /file count is unknown/],
    ['files missing', { announcedFiles: 4 }, /1 of 4 file\(s\) not received/],
    ['one device', { sameDevice: true }, /same device/],
    [
      'a volume offline (its copies unreachable)',
      { offlineVolumes: [{ role: 'mirror', reason: 'marker missing at /m/.studiovault-volume.json' }], unreachable: 3 },
      /mirror volume offline \(marker missing at \/m\/\.studiovault-volume\.json\): 3 file\(s\) with a copy unreachable/,
    ],
    ['a file only copied', { byLevel: { verified: 2, copied: 1 } }, /1 of 3 file\(s\) not yet verified/],
    ['the seal not written', { sealed: false }, /ASC MHL seal/],
    ['no off-site target under the default rule', { rule: SafeToFormatRule.TwoLocalAndOffsiteStarted }, /no off-site target/],
    [
      'off-site not started',
      { rule: SafeToFormatRule.TwoLocalAndOffsiteStarted, offsiteTargets: 1, offsiteStarted: 2 },
      /1 of 3 file\(s\) not yet started off-site/,
    ],
  ])('is not safe with %s', (_n, change, reason) => {
    const v = cardVerdict({ ...safe, ...change });
    expect(v.safe).toBe(false);
    expect(v.reason).toMatch(reason);
  });

  it('says when two copies on one device count only by admin override', () => {
    expect(cardVerdict({ ...safe, sameDevice: true, sameDeviceOverride: true }).reason).toMatch(/admin override/);
  });
});
