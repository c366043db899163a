import { posix } from 'node:path';
import { AppError } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';

export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_LABEL = 100;

// C0 and C1 control characters and DEL: never part of a camera's file name.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface CardPath {
  /** As the card gave it (macOS sends NFD): the name on both volumes, in the ASC MHL and in a restore. */
  given: string;
  /** Unicode NFC: what comparisons and uniqueness use. */
  nfc: string;
}

/**
 * Bidirectional controls (U+061C, U+200E/U+200F, U+202A–U+202E, U+2066–U+2069): a name holding
 * one shows differently from its bytes ("IMG_\u202Egpj.EXE" reads as "IMG_EXE.jpg").
 */
export const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The bidi controls of a name, as "U+202E" (empty when it has none). */
export function bidiControlsIn(name: string): string[] {
  return [...new Set(name.match(BIDI_CONTROL) ?? [])].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
}

/**
 * The key two names share when a case-insensitive file system (macOS, Windows: where a restore
 * may land) would take them for one file.
 */
export function caseKey(nfcPath: string): string {
  return nfcPath.toLowerCase().normalize('NFC');
}

function bad(message: string): AppError {
  return new AppError(ErrorCode.InvalidPath, message, [message]);
}

/**
 * A file's path relative to the card root, checked: no `..`, no absolute path, no NUL or
 * control characters, no empty segments, within the file system's limits.
 */
export function parseCardPath(raw: unknown): CardPath {
  if (typeof raw !== 'string' || raw.length === 0) throw bad('relativePath is required');
  if (raw.includes('\u0000')) throw bad('relativePath contains a NUL byte');
  if (CONTROL.test(raw)) throw bad('relativePath contains a control character');
  if (raw.includes('\\')) throw bad('relativePath must use "/" between folders, not "\\"');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw bad(`relativePath must be relative to the card, not absolute: ${raw}`);
  const nfc = raw.normalize('NFC');
  // The limits hold for the bytes as given: they are the names on disk.
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) throw bad(`relativePath is longer than ${MAX_PATH_BYTES} bytes`);
  for (const s of raw.split('/')) {
    if (s === '') throw bad(`relativePath has an empty folder name: ${raw}`);
    if (s === '.' || s === '..') throw bad(`relativePath must not contain "${s}": ${raw}`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw bad(`a name in relativePath is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  const segments = nfc.split('/');
  if (segments[0] === 'ascmhl') throw bad("relativePath must not be inside the card's ascmhl/ folder (StudioVault writes it)");
  if (posix.normalize(nfc) !== nfc) throw bad(`relativePath is not in normal form: ${raw}`);
  return { given: raw, nfc };
}

const HISTORY_FILE = /^ascmhl\/(?:\d{4}_[^/]+\.mhl|ascmhl_chain\.xml)$/;

/** A file of the card's existing ASC MHL history (from a camera, a DIT, another offload tool). */
export function parseHistoryPath(raw: unknown): CardPath {
  if (typeof raw !== 'string' || !HISTORY_FILE.test(raw.normalize('NFC')) || CONTROL.test(raw) || Buffer.byteLength(raw) > MAX_PATH_BYTES) {
    throw bad('a history file must be ascmhl/NNNN_<name>.mhl or ascmhl/ascmhl_chain.xml');
  }
  return { given: raw, nfc: raw.normalize('NFC') };
}

export function isHistoryPath(nfc: string): boolean {
  return nfc.startsWith('ascmhl/');
}

/** A card label becomes a folder name: the same rules as one path segment. */
export function parseCardLabel(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw bad('label is required');
  const label = raw.normalize('NFC').trim();
  if (label.length > MAX_LABEL) throw bad(`label is longer than ${MAX_LABEL} characters`);
  if (CONTROL.test(label) || /[/\\]/.test(label) || label === '.' || label === '..' || label.startsWith('.')) {
    throw bad(`label must be a plain folder name (no "/", "\\", leading "." or control characters): ${raw}`);
  }
  return label;
}

/** `<year>/<project-slug>/<card-label>` under a volume root. */
export function cardFolder(year: number, projectSlug: string, cardLabel: string): string {
  return posix.join(String(year), projectSlug, cardLabel);
}

/**
 * The stored name of a different-content twin: IMG_0001.CR3 → IMG_0001~v2.CR3. Works on the
 * name as given (its bytes are kept) as well as on its NFC form (for comparisons).
 */
export function versionedPath(path: string, version: number): string {
  if (version <= 1) return path;
  const dir = posix.dirname(path);
  const ext = posix.extname(path);
  const base = posix.basename(path, ext);
  const name = `${base}~v${version}${ext}`;
  return dir === '.' ? name : posix.join(dir, name);
}

/** The name and version a stored name stands for when it is a version (`IMG~v2.JPG` → `IMG.JPG`, 2), else undefined. */
export function versionOf(path: string): { path: string; version: number } | undefined {
  const dir = posix.dirname(path);
  const ext = posix.extname(path);
  const m = /^(.+)~v([1-9]\d{0,4})$/.exec(posix.basename(path, ext));
  if (!m) return undefined;
  const original = dir === '.' ? `${m[1]}${ext}` : posix.join(dir, `${m[1]}${ext}`);
  const version = Number(m[2]);
  return version > 1 && versionedPath(original, version) === path ? { path: original, version } : undefined;
}
