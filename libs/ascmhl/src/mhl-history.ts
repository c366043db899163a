/**
 * Comparing a card folder's files with its ASC MHL history, and preparing the next generation.
 *
 * Fail-closed: a file is `matched` only when it has a hash in at least one format the history
 * knows and every such format is equal (and the size, when both are known). Anything else is
 * reported; a history with issues (a tampered or unchained generation) never gives `ok`.
 */
import { HASH_FORMATS, HashFormat, HashSet, formatsOf, normalizeHashValue } from './hash-formats';
import { GenerationCreator, GenerationInput, SealedFile, SealedFolder } from './mhl-writer';
import { HashAction, ProcessType } from './mhl-model';
import { FileHistory, MediaHashHistory } from './mhl-reader';
import { assertCardRelativePath, isIgnored, pathKey } from './paths';
import { MhlError } from './errors';

/** A file of the card folder as hashed now. */
export interface CardFileHashes {
  path: string;
  size?: number;
  hashes: HashSet;
}

export type FileCheckStatus = 'matched' | 'mismatched' | 'new' | 'missing' | 'not-comparable';

export interface HashMismatch {
  format: HashFormat;
  /** What the history says the file hashed to. */
  expected: string;
  /** What it hashes to now. */
  actual: string;
  /** Generation that recorded `expected`. */
  sequenceNumber: number;
}

export interface FileCheck {
  status: FileCheckStatus;
  /** As given (for `missing`: as the history last recorded it). */
  path: string;
  /** Formats compared and equal (matched) or compared at all (mismatched). */
  formats: HashFormat[];
  /** For `mismatched`: every differing format, with both hashes. */
  mismatches: HashMismatch[];
  /** For `mismatched` on size. */
  size?: { expected: number; actual: number };
  /** The history's latest good hashes (absent for `new`). */
  expected?: HashSet;
  /** The hashes given now (absent for `missing`). */
  actual?: HashSet;
}

export interface HistoryCheck {
  files: FileCheck[];
  counts: Record<FileCheckStatus, number>;
  /** Paths of given files left out because the history's ignore patterns match them. */
  ignored: string[];
  historyIntact: boolean;
  /** Every file matched, none new or missing, and the history intact. */
  ok: boolean;
}

export interface VerifyOptions {
  /** Default: the history's latest ignore patterns. */
  ignorePatterns?: readonly string[];
}

function knownHashSet(fh: FileHistory): HashSet {
  const set: HashSet = {};
  for (const f of HASH_FORMATS) {
    const known = fh.hashes[f];
    if (known) set[f] = known.value;
  }
  return set;
}

function checkFile(given: CardFileHashes, actual: HashSet, fh: FileHistory): FileCheck {
  const expected = knownHashSet(fh);
  const formats = HASH_FORMATS.filter((f) => actual[f] !== undefined && expected[f] !== undefined);
  const mismatches: HashMismatch[] = formats
    .filter((f) => actual[f] !== expected[f])
    .map((f) => ({
      format: f,
      expected: expected[f] as string,
      actual: actual[f] as string,
      sequenceNumber: fh.hashes[f]?.sequenceNumber as number,
    }));
  const sizeDiffers = given.size !== undefined && fh.size !== undefined && given.size !== fh.size;
  const base = { path: given.path, formats, mismatches, expected, actual };
  if (mismatches.length || sizeDiffers) {
    return { ...base, status: 'mismatched', size: sizeDiffers ? { expected: fh.size as number, actual: given.size as number } : undefined };
  }
  if (formats.length === 0) return { ...base, status: 'not-comparable' };
  return { ...base, status: 'matched' };
}

/**
 * Compares files (hashed now) with the history: per file `matched`, `mismatched` (with both
 * hashes), `new` (not in the history), `not-comparable` (in the history, but no hash format in
 * common), and per recorded file not given `missing`. Paths are compared in NFC.
 */
export function verifyAgainstHistory(
  history: MediaHashHistory,
  files: readonly CardFileHashes[],
  options: VerifyOptions = {},
): HistoryCheck {
  const patterns = options.ignorePatterns ?? history.ignorePatterns;
  const results: FileCheck[] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    assertCardRelativePath(file.path, 'file path');
    if (isIgnored(file.path, patterns)) {
      ignored.push(file.path);
      continue;
    }
    const key = pathKey(file.path);
    if (seen.has(key)) throw new MhlError('invalid-input', `"${file.path}" is given twice (compared in Unicode NFC)`);
    seen.add(key);
    const actual: HashSet = {};
    for (const f of formatsOf(file.hashes)) actual[f] = normalizeHashValue(f, file.hashes[f] as string);
    const fh = history.files.get(key);
    if (!fh) results.push({ status: 'new', path: file.path, formats: [], mismatches: [], actual });
    else results.push(checkFile(file, actual, fh));
  }
  for (const [key, fh] of history.files) {
    if (!seen.has(key) && !isIgnored(fh.path, patterns)) {
      results.push({ status: 'missing', path: fh.path, formats: [], mismatches: [], expected: knownHashSet(fh) });
    }
  }
  const counts: Record<FileCheckStatus, number> = { matched: 0, mismatched: 0, new: 0, missing: 0, 'not-comparable': 0 };
  for (const r of results) counts[r.status]++;
  return {
    files: results,
    counts,
    ignored,
    historyIntact: history.intact,
    ok: history.intact && counts.matched === results.length,
  };
}

/** Hash formats the history holds for its files: hash at least these to verify every file. */
export function requiredFormats(history: MediaHashHistory): HashFormat[] {
  const found = new Set<HashFormat>();
  for (const fh of history.files.values()) for (const f of formatsOf(knownHashSet(fh))) found.add(f);
  return HASH_FORMATS.filter((f) => found.has(f));
}

/** A file of the card folder, hashed now, to be recorded in the next generation. */
export interface NextGenerationFile extends CardFileHashes {
  size: number;
  lastModified?: Date;
  created?: Date;
  hashDate?: Date;
}

export interface NextGenerationInput {
  files: readonly NextGenerationFile[];
  creator: GenerationCreator;
  /** Default `transfer`. */
  process?: ProcessType;
  /** Default: the history's latest patterns. */
  ignorePatterns?: readonly string[];
  folders?: readonly SealedFolder[];
  /** Default: the card folder's name (the history's folder name). */
  cardFolderName?: string;
}

export interface NextGeneration {
  /** Ready for `buildGeneration` / `writeGeneration`: numbered N+1, each hash with its action. */
  generation: GenerationInput;
  /** How the files compare with the history (the actions follow from it). */
  check: HistoryCheck;
}

/**
 * Prepares generation N+1 of a history: files that match are recorded `verified`, files that
 * differ `failed` (every format, so no new format blesses changed content), new files and files
 * the history cannot compare `original`. A format new to a verified file is `verified` too (it
 * was computed from content that verified), as the reference tool records it. Missing files are
 * not recorded; they show in `check`.
 */
export function nextGeneration(history: MediaHashHistory, input: NextGenerationInput): NextGeneration {
  const ignorePatterns = input.ignorePatterns ?? history.ignorePatterns;
  const check = verifyAgainstHistory(history, input.files, { ignorePatterns });
  const byPath = new Map(check.files.map((c) => [pathKey(c.path), c]));
  const files: SealedFile[] = [];
  for (const f of input.files) {
    const c = byPath.get(pathKey(f.path));
    if (!c) continue; // ignored
    const action: HashAction = c.status === 'matched' ? 'verified' : c.status === 'mismatched' ? 'failed' : 'original';
    files.push({
      path: f.path,
      size: f.size,
      lastModified: f.lastModified,
      created: f.created,
      hashDate: f.hashDate,
      hashes: f.hashes,
      action,
    });
  }
  const folderName =
    input.cardFolderName ??
    history.cardFolder
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() ??
    '';
  return {
    generation: {
      sequenceNumber: history.nextSequenceNumber,
      cardFolderName: folderName,
      creator: input.creator,
      process: input.process ?? 'transfer',
      ignorePatterns,
      files,
      folders: input.folders,
    },
    check,
  };
}
