import { compileRestorePattern, RESTORE_PATTERN_MAX_LENGTH, RestorePatternError, restorePatternsSelect } from './restore-glob';

const PATHS = [
  'DCIM/100CANON/IMG_0001.JPG',
  'DCIM/100CANON/IMG_0002.jpg',
  'DCIM/100CANON/IMG_0001.CR3',
  'DCIM/101CANON/sub/deep/A.cr3',
  'PRIVATE/M4ROOT/CLIP/C0001.MP4',
  '.hidden/x.jpg',
  'IMG [1].jpg',
  'notes(1).txt',
];
const select = (pattern: string) => PATHS.filter((p) => compileRestorePattern(pattern).matches(p));

describe('restore patterns', () => {
  it('are case-insensitive, and a pattern without "/" matches names at any depth', () => {
    expect(select('*.JPG')).toEqual(['DCIM/100CANON/IMG_0001.JPG', 'DCIM/100CANON/IMG_0002.jpg', '.hidden/x.jpg', 'IMG [1].jpg']);
    expect(select('img_000?.*')).toEqual(['DCIM/100CANON/IMG_0001.JPG', 'DCIM/100CANON/IMG_0002.jpg', 'DCIM/100CANON/IMG_0001.CR3']);
    expect(select('100canon')).toEqual(PATHS.slice(0, 3));
    expect(select('.hidden')).toEqual(['.hidden/x.jpg']);
  });

  it('match a pattern with "/" from the start of the path; "**" spans folders, "*" does not', () => {
    expect(select('DCIM/**/*.cr3')).toEqual(['DCIM/100CANON/IMG_0001.CR3', 'DCIM/101CANON/sub/deep/A.cr3']);
    expect(select('DCIM/*/*.cr3')).toEqual(['DCIM/100CANON/IMG_0001.CR3']);
    expect(select('CANON/*.JPG')).toEqual([]);
    expect(select('**/*.MP4')).toEqual(['PRIVATE/M4ROOT/CLIP/C0001.MP4']);
    expect(select('**')).toEqual(PATHS);
  });

  it('select a whole folder by its path (with or without a trailing "/" or "/**")', () => {
    for (const p of ['DCIM/101CANON', 'DCIM/101CANON/', 'DCIM/101CANON/**', 'dcim/101*'])
      expect(select(p)).toEqual(['DCIM/101CANON/sub/deep/A.cr3']);
  });

  it('know character classes, negation and escapes', () => {
    expect(select('IMG_000[2-9].*')).toEqual(['DCIM/100CANON/IMG_0002.jpg']);
    expect(select('IMG_000[!2].jpg')).toEqual(['DCIM/100CANON/IMG_0001.JPG']);
    expect(select('*.[cm][rp][34]')).toEqual([
      'DCIM/100CANON/IMG_0001.CR3',
      'DCIM/101CANON/sub/deep/A.cr3',
      'PRIVATE/M4ROOT/CLIP/C0001.MP4',
    ]);
    expect(select('IMG \\[1\\].jpg')).toEqual(['IMG [1].jpg']);
    expect(select('notes\\(1\\).txt')).toEqual(['notes(1).txt']);
    expect(restorePatternsSelect([compileRestorePattern('*.MP4'), compileRestorePattern('*.CR3')], 'a/b.cr3')).toBe(true);
  });

  it('compare names in NFC (macOS gives NFD)', () => {
    expect(compileRestorePattern('Caf\u00e9*').matches('Cafe\u0301 1.jpg')).toBe(true);
    expect(compileRestorePattern('CAFE\u0301.JPG').matches('x/caf\u00e9.jpg')).toBe(true);
  });

  it.each([
    ['+(a|aa)b', /extended-glob/],
    ['@(x)', /extended-glob/],
    ['*(1).jpg', /extended-glob/],
    ['*.{jpg,cr3}', /braces/],
    ['IMG[1.jpg', /without its "\]"/],
    ['/etc/passwd', /starts with "\/"/],
    ['', /empty/],
    ['a\\', /ends with/],
    ['x'.repeat(RESTORE_PATTERN_MAX_LENGTH + 1), /at most 512/],
    ['*a'.repeat(33), /more than 32 wildcards/],
  ])('refuse %j', (pattern, why) => {
    expect(() => compileRestorePattern(pattern)).toThrow(RestorePatternError);
    expect(() => compileRestorePattern(pattern)).toThrow(why);
  });

  it('take time linear in the path whatever the pattern (no backtracking)', () => {
    const name = `DCIM/${'a'.repeat(30)}`;
    // What froze the server with minimatch's RegExp: groups that can split the a's many ways.
    for (const pattern of [
      '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b',
      '**/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b',
      '*a*a*a*a*a*b',
    ]) {
      const m = compileRestorePattern(pattern);
      const t0 = performance.now();
      expect(m.matches(name)).toBe(false);
      expect(performance.now() - t0).toBeLessThan(50);
      // A backtracking matcher would need longer than the universe's age for this one.
      const t1 = performance.now();
      expect(m.matches(`${'a/'.repeat(200)}${'a'.repeat(2000)}`)).toBe(false);
      expect(performance.now() - t1).toBeLessThan(1000);
    }
    // The patterns (three and five groups) are refused at once, never run.
    for (const pattern of ['+(a|aa)+(a|aa)+(a|aa)b', '+(a|aa)+(a|aa)+(a|aa)+(a|aa)+(a|aa)b']) {
      const t0 = performance.now();
      expect(() => compileRestorePattern(pattern)).toThrow(RestorePatternError);
      expect(performance.now() - t0).toBeLessThan(50);
    }
  });
});
