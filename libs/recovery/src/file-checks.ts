import { open } from 'node:fs/promises';
import exifr from 'exifr';
import jpeg from 'jpeg-js';
import { FileClass, fileClassOf } from '@studiovault/contracts';

export interface OpenCheck {
  path: string;
  kind: 'raw' | 'jpeg' | 'video';
  ok: boolean;
  /** What a person would have seen: "embedded preview 1620×1080", "JPEG 6000×4000", "MP4: ftyp isom, moov, mdat". */
  detail: string;
  /** A small JPEG (the RAW's embedded preview, or the JPEG itself when small), base64, for the report. */
  thumbnail?: string;
}

const MAX_THUMB = 200_000;
const VIDEO_EXT = new Set(['mp4', 'mov', 'm4v', 'insv']);

/** Which files a drill can open like a person would (others are checked by hash only). */
export function openableKind(path: string): OpenCheck['kind'] | null {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (fileClassOf(path) === FileClass.Raw) return 'raw';
  if (ext === 'jpg' || ext === 'jpeg') return 'jpeg';
  if (VIDEO_EXT.has(ext) || ext === 'mxf') return 'video';
  return null;
}

/**
 * Opens a restored file as a person checking it would: a RAW's container is parsed and its
 * embedded JPEG preview extracted and decoded; a JPEG is decoded; a video container's headers
 * are read (MP4/MOV boxes, MXF partition pack). Never throws: a failure is the check's result.
 */
export async function openLikeAPerson(file: string, displayPath: string): Promise<OpenCheck | null> {
  const kind = openableKind(displayPath);
  if (!kind) return null;
  try {
    if (kind === 'raw') return await checkRaw(file, displayPath);
    if (kind === 'jpeg') return await checkJpeg(file, displayPath);
    return await checkVideo(file, displayPath);
  } catch (err) {
    return { path: displayPath, kind, ok: false, detail: `cannot open: ${(err as Error).message}` };
  }
}

function decode(bytes: Uint8Array): { width: number; height: number } {
  const img = jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512, maxResolutionInMP: 200 });
  if (!img.width || !img.height) throw new Error('no image data');
  return { width: img.width, height: img.height };
}

async function checkRaw(file: string, path: string): Promise<OpenCheck> {
  const preview = await exifr.thumbnail(file);
  if (!preview || preview.length < 4)
    return { path, kind: 'raw', ok: false, detail: 'the RAW container holds no embedded JPEG preview that could be read' };
  const bytes = preview instanceof Uint8Array ? preview : new Uint8Array(preview);
  const { width, height } = decode(bytes);
  return {
    path,
    kind: 'raw',
    ok: true,
    detail: `embedded preview ${width}×${height} decoded`,
    thumbnail: bytes.length <= MAX_THUMB ? Buffer.from(bytes).toString('base64') : undefined,
  };
}

async function checkJpeg(file: string, path: string): Promise<OpenCheck> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size > 64 * 1024 * 1024) return { path, kind: 'jpeg', ok: false, detail: `${size} bytes: too large to decode in a drill` };
    const bytes = await fh.readFile();
    const { width, height } = decode(bytes);
    const thumb = bytes.length <= MAX_THUMB ? bytes : await exifr.thumbnail(bytes).catch(() => undefined);
    return {
      path,
      kind: 'jpeg',
      ok: true,
      detail: `JPEG ${width}×${height} decoded`,
      thumbnail: thumb && thumb.length <= MAX_THUMB ? Buffer.from(thumb).toString('base64') : undefined,
    };
  } finally {
    await fh.close();
  }
}

/** Reads the top-level boxes of an ISO BMFF file (MP4/MOV) or the MXF header partition key. */
async function checkVideo(file: string, path: string): Promise<OpenCheck> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    if (path.toLowerCase().endsWith('.mxf')) {
      const ok = head.subarray(0, 4).equals(Buffer.from([0x06, 0x0e, 0x2b, 0x34])) && head[4] === 0x02 && head[5] === 0x05;
      return { path, kind: 'video', ok, detail: ok ? 'MXF header partition pack found' : 'no MXF header partition pack' };
    }
    const boxes: string[] = [];
    let offset = 0;
    while (offset < size && boxes.length < 64) {
      const hdr = Buffer.alloc(16);
      const { bytesRead } = await fh.read(hdr, 0, 16, offset);
      if (bytesRead < 8) break;
      let len = hdr.readUInt32BE(0);
      const type = hdr.toString('latin1', 4, 8);
      if (!/^[\x20-\x7e]{4}$/.test(type)) return { path, kind: 'video', ok: false, detail: `box at ${offset} has no valid type` };
      if (len === 1) len = Number(hdr.readBigUInt64BE(8));
      else if (len === 0) len = size - offset;
      if (len < 8 || offset + len > size)
        return { path, kind: 'video', ok: false, detail: `box "${type}" at ${offset} runs past the end of the file` };
      boxes.push(type);
      offset += len;
    }
    const ok = boxes[0] === 'ftyp' && boxes.includes('moov') && offset === size;
    return {
      path,
      kind: 'video',
      ok,
      detail: ok
        ? `container boxes ${boxes.join(', ')} read to the end`
        : `container boxes ${boxes.join(', ') || 'none'}: ftyp and moov expected, read to ${offset} of ${size}`,
    };
  } finally {
    await fh.close();
  }
}
