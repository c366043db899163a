import { Injectable } from '@nestjs/common';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface VolumeProbe {
  deviceId: string;
  freeBytes: bigint;
  totalBytes: bigint;
}

/** What StudioVault writes at a volume's root when it sets the volume up. */
export interface VolumeMarker {
  format: 'studiovault-volume';
  version: 1;
  volumeId: string;
  role: string;
  createdAt: string;
  uuid: string;
}

export const MARKER_FILE = '.studiovault-volume.json';

/** What a root holds, for deciding whether an upgrade may write a marker there. */
export type RootContent = 'missing' | 'empty' | 'volume-layout' | 'other';

/** Top-level names a volume root holds: year folders, the staging area, a file system's lost+found. */
const LAYOUT_NAME = /^(\d{4}|\.studiovault|lost\+found)$/;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isMarker(v: unknown): v is VolumeMarker {
  const m = v as Partial<VolumeMarker> | null;
  return (
    !!m && m.format === 'studiovault-volume' && typeof m.uuid === 'string' && typeof m.volumeId === 'string' && typeof m.role === 'string'
  );
}

/** The file system behind a volume root: the only place volumes touch the disk. */
@Injectable()
export class VolumeFsRepository {
  /** Creates a root at set-up only (its parents too: a fresh data folder). Never called for a volume already set up. */
  async createRootAtSetup(root: string): Promise<void> {
    await mkdir(root, { recursive: true });
  }

  async probe(root: string): Promise<VolumeProbe> {
    const [st, fsst] = await Promise.all([stat(root, { bigint: true }), statfs(root, { bigint: true })]);
    if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
    return { deviceId: st.dev.toString(), freeBytes: fsst.bavail * fsst.bsize, totalBytes: fsst.blocks * fsst.bsize };
  }

  async rootContent(root: string): Promise<RootContent> {
    let names: string[];
    try {
      names = await readdir(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    const own = names.filter((n) => n !== 'lost+found');
    if (own.length === 0 || (own.length === 1 && own[0] === '.studiovault')) return 'empty';
    return names.every((n) => LAYOUT_NAME.test(n)) ? 'volume-layout' : 'other';
  }

  /** The marker at the root: null when there is none; 'unreadable' when the file is not a marker. */
  async readMarker(root: string): Promise<VolumeMarker | null | 'unreadable'> {
    let text: string;
    try {
      text = await readFile(join(root, MARKER_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return isMarker(parsed) ? parsed : 'unreadable';
    } catch {
      return 'unreadable';
    }
  }

  /** Writes the marker durably: temp file, fsync, rename, directory fsync. The root must exist. */
  async writeMarker(root: string, marker: VolumeMarker): Promise<void> {
    const tmp = join(root, `${MARKER_FILE}.tmp-${process.pid}`);
    const fh = await open(tmp, 'w', 0o640);
    try {
      await fh.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    await rename(tmp, join(root, MARKER_FILE));
    await fsyncDir(root);
  }
}

/**
 * Creates `relative` below `root`, one folder at a time, never the root itself: when the root
 * is gone (a folder moved away, a disk unmounted and its mount point removed), this fails with
 * ENOENT instead of making a new, empty root. Returns whether any folder was created.
 */
export async function mkdirBelowRoot(root: string, relative: string, mode = 0o750): Promise<boolean> {
  const parts = relative.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`not below the volume root: ${relative}`);
  let dir = root;
  let created = false;
  const st = await stat(root); // ENOENT when the root is gone
  if (!st.isDirectory()) throw Object.assign(new Error(`${root} is not a directory`), { code: 'ENOTDIR' });
  for (const p of parts) {
    const parent = dir;
    dir = join(dir, p);
    try {
      await mkdir(dir, { mode });
      created = true;
      await fsyncDir(parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return created;
}
