/**
 * Paths inside a card folder as ASC MHL records them: relative to the card folder (the folder
 * that holds `ascmhl/`), "/" between folders, written exactly as the file system gave them, and
 * compared in Unicode NFC (macOS gives NFD, the NAS may hold NFC).
 */
import { MhlError } from './errors';

/** The history folder inside a card folder. */
export const ASCMHL_FOLDER = 'ascmhl';
export const CHAIN_FILE_NAME = 'ascmhl_chain.xml';

/** What the ASC reference tool ignores by default; written into every generation's `<ignore>`. */
export const DEFAULT_IGNORE_PATTERNS: readonly string[] = ['.DS_Store', 'ascmhl', 'ascmhl/'];

// C0 controls and DEL: XML cannot carry most of them, and no camera writes them.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws `invalid-path` unless `path` is a clean relative path inside the card folder. */
export function assertCardRelativePath(path: string, what = 'path'): void {
  const bad = (why: string): never => {
    throw new MhlError('invalid-path', `${what} ${JSON.stringify(path.slice(0, 300))} ${why}`);
  };
  if (typeof path !== 'string' || path.length === 0) bad('is empty');
  if (path.includes('\u0000')) bad('contains a NUL byte');
  if (CONTROL.test(path)) bad('contains a control character');
  if (path.includes('\\')) bad('must use "/" between folders, not "\\"');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) bad('must be relative to the card folder, not absolute');
  for (const segment of path.split('/')) {
    if (segment === '') bad('has an empty folder name');
    if (segment === '.' || segment === '..') bad(`must not contain "${segment}"`);
  }
  if (path.split('/')[0] === ASCMHL_FOLDER) bad("is inside the card's ascmhl/ folder");
}

/** The key two paths are compared by. */
export function pathKey(path: string): string {
  return path.normalize('NFC');
}

/** Last segment of a relative path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

const compiled = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  const cached = compiled.get(glob);
  if (cached) return cached;
  if (compiled.size > 1000) compiled.clear();
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regExp = new RegExp(`^${re}$`, 'u');
  compiled.set(glob, regExp);
  return regExp;
}

/**
 * Whether an ignore pattern matches a file's relative path, in the spirit of the reference tool
 * (gitignore-like, a subset): `*` and `?` match within one name; a pattern without "/" matches
 * any single name along the path (the file's own name, or a folder it is in); a pattern ending in
 * "/" matches folders only; a pattern with a "/" inside matches from the card folder down (the
 * path itself or a folder it is in). Compared in NFC.
 */
export function matchesIgnorePattern(path: string, pattern: string, isFolder = false): boolean {
  let p = pattern.trim().normalize('NFC');
  if (p === '' || p.startsWith('#')) return false;
  const folderOnly = p.endsWith('/');
  if (folderOnly) p = p.slice(0, -1);
  if (p.startsWith('/')) p = p.slice(1);
  if (p === '') return false;
  const segments = pathKey(path).split('/');
  const folderSegments = isFolder ? segments.length : segments.length - 1;
  const candidates = folderOnly ? segments.slice(0, folderSegments) : segments;
  if (!p.includes('/')) {
    const re = globToRegExp(p);
    return candidates.some((s) => re.test(s));
  }
  const re = globToRegExp(p);
  const last = folderOnly ? folderSegments : segments.length;
  for (let i = 1; i <= last; i++) if (re.test(segments.slice(0, i).join('/'))) return true;
  return false;
}

/** Whether any pattern matches; `isFolder` when `path` names a folder rather than a file. */
export function isIgnored(path: string, patterns: readonly string[], isFolder = false): boolean {
  return patterns.some((p) => matchesIgnorePattern(path, p, isFolder));
}
