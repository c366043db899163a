/**
 * The synthetic camera card the benchmarks share (issue 3): 60 × 50 MiB RAW, 200 × 8 MiB JPEG and
 * 2 × 1 GiB video at scale 1, random content. Compiled with the benchmarks (`npx swc bench -d dist`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** Relative paths and sizes of the card's files at a scale (counts and video size scale; RAW/JPEG sizes do not). */
export function cardFiles(scale: number): [string, number][] {
  const files: [string, number][] = [];
  for (let i = 1; i <= Math.round(60 * scale); i++) files.push([`DCIM/100CANON/IMG_${String(i).padStart(4, '0')}.CR3`, 50 * MiB]);
  for (let i = 1; i <= Math.round(200 * scale); i++) files.push([`DCIM/101CANON/IMG_${String(i).padStart(4, '0')}.JPG`, 8 * MiB]);
  for (let i = 1; i <= 2; i++) files.push([`PRIVATE/M4ROOT/CLIP/C${String(i).padStart(4, '0')}.MP4`, Math.round(1024 * scale) * MiB]);
  return files;
}

/**
 * Writes the card under `dir` (a file already there with the right size is kept) and returns its
 * size in bytes and its number of files.
 */
export function makeCard(dir: string, scale: number): { bytes: number; files: number } {
  const files = cardFiles(scale);
  let total = 0;
  const chunk = randomBytes(16 * MiB);
  for (const [rel, size] of files) {
    const path = join(dir, rel);
    total += size;
    if (existsSync(path) && statSync(path).size === size) continue;
    mkdirSync(join(path, '..'), { recursive: true });
    const fd = openSync(path, 'w');
    // fresh random bytes per file (a cheap xor of a random pool with the file index): no dedup anywhere
    for (let off = 0; off < size; off += chunk.length) {
      const part = Buffer.from(chunk.subarray(0, Math.min(chunk.length, size - off)));
      part.writeUInt32LE((off ^ total) >>> 0, 0);
      part[part.length - 1] ^= rel.length;
      writeSync(fd, part);
    }
    closeSync(fd);
  }
  return { bytes: total, files: files.length };
}
