import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A file of the card, as the file system gives it. */
export interface CardFile {
  /** Relative to the card root, "/" between folders, the names AS GIVEN (macOS gives NFD). */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

export interface SkippedEntry {
  rel: string;
  reason: string;
}

export interface CardWalk {
  /** The card root, absolute and with symlinks resolved. */
  root: string;
  /** The card's files, sorted by path. */
  files: CardFile[];
  /** The card's existing ASC MHL history (`ascmhl/` at the root): generations and the chain file. */
  history: CardFile[];
  /** OS junk, refused symlinks, special files: not uploaded, reported. */
  skipped: SkippedEntry[];
  /** Bytes of `files`. */
  bytes: number;
}

export const HISTORY_FOLDER = 'ascmhl';

/** Folders operating systems put on removable media; never part of a shoot. */
const JUNK_FOLDERS = new Set(['.spotlight-v100', '.trashes', '.fseventsd', '.temporaryitems', 'system volume information', '$recycle.bin']);
const JUNK_FILES = new Set(['.ds_store']);

/** Why a name is OS junk, or undefined. */
export function junkReason(name: string, isDirectory: boolean): string | undefined {
  const lower = name.toLowerCase();
  if (isDirectory && JUNK_FOLDERS.has(lower)) return 'OS junk folder';
  if (!isDirectory && JUNK_FILES.has(lower)) return 'OS junk';
  if (!isDirectory && name.startsWith('._')) return 'OS junk: AppleDouble';
  return undefined;
}

/** A file of an ASC MHL history: a generation (`NNNN_<folder>_<date>_<time>Z.mhl`) or the chain file. */
export function isHistoryFileName(name: string): boolean {
  return name === 'ascmhl_chain.xml' || /^\d{4}_.+\.mhl$/.test(name);
}

export class CardWalkError extends Error {
  override name = 'CardWalkError';
}

function inside(root: string, target: string): boolean {
  const r = relative(root, target);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
}

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists a card: every regular file under the root, by path, with its size and mtime. Skips
 * OS junk, refuses symlinks that lead out of the card (and special files), takes `ascmhl/`
 * at the root as the card's history. A folder that cannot be read is an error: a card that
 * is not fully listed cannot be called safe.
 */
export async function walkCard(cardPath: string): Promise<CardWalk> {
  const root = await realpath(cardPath);
  const files: CardFile[] = [];
  const history: CardFile[] = [];
  const skipped: SkippedEntry[] = [];
  /** Real paths of the folders being walked (a symlinked folder must not loop). */
  const walking = new Set<string>([root]);

  const entriesOf = async (dirAbs: string, rel: string): Promise<Dirent[]> => {
    try {
      return (await readdir(dirAbs, { withFileTypes: true })).sort(byName);
    } catch (err) {
      throw new CardWalkError(`cannot read the folder ${rel || '.'} on the card: ${(err as Error).message}`);
    }
  };

  const statOf = async (abs: string, rel: string, follow: boolean): Promise<Stats> => {
    try {
      return follow ? await stat(abs) : await lstat(abs);
    } catch (err) {
      throw new CardWalkError(`cannot read ${rel} on the card: ${(err as Error).message}`);
    }
  };

  const walk = async (dirAbs: string, rel: string): Promise<void> => {
    for (const entry of await entriesOf(dirAbs, rel)) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const abs = join(dirAbs, entry.name);
      let info = await statOf(abs, path, false);
      let realDir: string | undefined;
      if (info.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          skipped.push({ rel: path, reason: 'broken symlink' });
          continue;
        }
        if (!inside(root, target)) {
          skipped.push({ rel: path, reason: `refused: symlink leads out of the card, to ${target}` });
          continue;
        }
        info = await statOf(abs, path, true);
        if (info.isDirectory()) realDir = target;
      }
      if (info.isDirectory()) {
        const junk = junkReason(entry.name, true);
        if (junk) {
          skipped.push({ rel: `${path}/`, reason: junk });
          continue;
        }
        if (!rel && entry.name === HISTORY_FOLDER) {
          await walkHistory(abs, path);
          continue;
        }
        const real = realDir ?? abs;
        if (walking.has(real)) {
          skipped.push({ rel: `${path}/`, reason: 'refused: symlink loops back to a folder being listed' });
          continue;
        }
        walking.add(real);
        await walk(abs, path);
        walking.delete(real);
        continue;
      }
      if (!info.isFile()) {
        skipped.push({ rel: path, reason: 'not a regular file' });
        continue;
      }
      const junk = junkReason(entry.name, false);
      if (junk) {
        skipped.push({ rel: path, reason: junk });
        continue;
      }
      files.push({ rel: path, abs, size: info.size, mtimeMs: info.mtimeMs });
    }
  };

  const walkHistory = async (dirAbs: string, rel: string): Promise<void> => {
    for (const entry of await entriesOf(dirAbs, rel)) {
      const path = `${rel}/${entry.name}`;
      const abs = join(dirAbs, entry.name);
      const info = await statOf(abs, path, false);
      if (info.isFile() && isHistoryFileName(entry.name)) {
        history.push({ rel: path, abs, size: info.size, mtimeMs: info.mtimeMs });
      } else if (info.isFile() && junkReason(entry.name, false)) {
        skipped.push({ rel: path, reason: junkReason(entry.name, false)! });
      } else {
        skipped.push({ rel: info.isDirectory() ? `${path}/` : path, reason: 'not an ASC MHL generation or chain file' });
      }
    }
  };

  await walk(root, '');
  return { root, files, history, skipped, bytes: files.reduce((a, f) => a + f.size, 0) };
}
