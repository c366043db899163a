import { assertCardRelativePath, isIgnored, matchesIgnorePattern } from './paths';

describe('card-relative paths and ignore patterns', () => {
  it.each(['DCIM/100CANON/IMG_0001.CR3', 'a', 'Cafe\u0301/x.mov', 'with space/ x '])('accepts %j', (p) => {
    expect(() => assertCardRelativePath(p)).not.toThrow();
  });

  it.each([
    ['', /empty/],
    ['/abs/x', /absolute/],
    ['C:/x', /absolute/],
    ['a/../b', /".."/],
    ['./a', /"\."/],
    ['a//b', /empty folder/],
    ['a/', /empty folder/],
    ['a\\b', /"\/"/],
    ['a\u0000b', /NUL/],
    ['a\nb', /control/],
    ['ascmhl/0001_x.mhl', /ascmhl/],
  ])('refuses %j', (p, message) => {
    expect(() => assertCardRelativePath(p)).toThrow(message);
  });

  it('matches the reference defaults and gitignore-like patterns', () => {
    const defaults = ['.DS_Store', 'ascmhl', 'ascmhl/'];
    expect(isIgnored('.DS_Store', defaults)).toBe(true);
    expect(isIgnored('DCIM/.DS_Store', defaults)).toBe(true);
    expect(isIgnored('sub/ascmhl/0001_sub.mhl', defaults)).toBe(true);
    expect(isIgnored('DCIM/IMG_0001.CR3', defaults)).toBe(false);
    expect(matchesIgnorePattern('a/b.tmp', '*.tmp')).toBe(true);
    expect(matchesIgnorePattern('a/b.tmp', 'a/*.tmp')).toBe(true);
    expect(matchesIgnorePattern('x/a/b.tmp', 'a/*.tmp')).toBe(false);
    expect(matchesIgnorePattern('cache', 'cache/')).toBe(false); // a file named cache: folder-only pattern
    expect(matchesIgnorePattern('cache/x', 'cache/')).toBe(true);
    expect(matchesIgnorePattern('cache', 'cache/', true)).toBe(true);
    expect(matchesIgnorePattern('IMG_0001.CR3', 'IMG_000?.CR3')).toBe(true);
    expect(matchesIgnorePattern('Cafe\u0301', 'Caf\u00e9')).toBe(true); // NFC on both sides
  });
});
