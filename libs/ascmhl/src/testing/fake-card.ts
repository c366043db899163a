/** A camera card in a temporary folder, and a walk that hashes it as the worker would. */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HashFormat, hashFile } from '../hash-formats';
import { NextGenerationFile } from '../mhl-history';
import { SealedFolder } from '../mhl-writer';
import { ASCMHL_FOLDER } from '../paths';

export async function writeCardFiles(root: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** A Canon-like card: RAW + JPEG, a nested folder, an NFD accent in a name, an empty file, an empty folder, Finder junk. */
export async function makeFakeCard(root: string): Promise<string[]> {
  const files: Record<string, Buffer | string> = {
    'DCIM/100CANON/IMG_0001.CR3': randomBytes(256 * 1024 + 7),
    'DCIM/100CANON/IMG_0002.JPG': randomBytes(64 * 1024),
    'DCIM/100CANON/CLIPS/NESTED/MVI_0003.MP4': randomBytes(300 * 1024),
    'PRIVATE/Cafe\u0301 notes.txt': 'NFD name: e + combining acute\n',
    'DCIM/EMPTY.DAT': Buffer.alloc(0),
    '.DS_Store': 'finder junk',
  };
  await writeCardFiles(root, files);
  await mkdir(join(root, 'MISC'), { recursive: true });
  return Object.keys(files);
}

/** Every file and folder under `root` except `ascmhl/`, hashed. Names come back exactly as the file system stores them. */
export async function scanCard(
  root: string,
  formats: HashFormat[] = ['xxh64'],
): Promise<{ files: NextGenerationFile[]; folders: SealedFolder[] }> {
  const files: NextGenerationFile[] = [];
  const folders: SealedFolder[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (!rel && entry.name === ASCMHL_FOLDER) continue;
      const info = await stat(join(root, path));
      if (entry.isDirectory()) {
        folders.push({ path, lastModified: info.mtime });
        await walk(path);
      } else {
        const { size, hashes } = await hashFile(join(root, path), formats);
        files.push({ path, size, hashes, lastModified: info.mtime });
      }
    }
  };
  await walk('');
  return { files, folders };
}
