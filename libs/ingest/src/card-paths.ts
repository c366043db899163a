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
  /** As the card gave it (macOS sends NFD). */
  given: string;
  /** Unicode NFC: what comparisons, uniqueness and the stored file name use. */
  nfc: string;
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
  if (Buffer.byteLength(nfc) > MAX_PATH_BYTES) throw bad(`relativePath is longer than ${MAX_PATH_BYTES} bytes`);
  const segments = nfc.split('/');
  for (const s of segments) {
    if (s === '') throw bad(`relativePath has an empty folder name: ${raw}`);
    if (s === '.' || s === '..') throw bad(`relativePath must not contain "${s}": ${raw}`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw bad(`a name in relativePath is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
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

/** The stored name of a different-content twin: IMG_0001.CR3 → IMG_0001~v2.CR3. */
export function versionedPath(nfcPath: string, version: number): string {
  if (version <= 1) return nfcPath;
  const dir = posix.dirname(nfcPath);
  const ext = posix.extname(nfcPath);
  const base = posix.basename(nfcPath, ext);
  const name = `${base}~v${version}${ext}`;
  return dir === '.' ? name : posix.join(dir, name);
}
