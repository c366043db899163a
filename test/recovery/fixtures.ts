import { randomBytes } from 'node:crypto';
import jpeg from 'jpeg-js';

/** A real little JPEG (noise, so every one differs). */
export function makeJpeg(width = 64, height = 48): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const noise = randomBytes(width * height);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = noise[i];
    data[i * 4 + 1] = (i * 7) & 0xff;
    data[i * 4 + 2] = 255 - noise[i];
    data[i * 4 + 3] = 255;
  }
  return Buffer.from(jpeg.encode({ data, width, height }, 80).data);
}

/**
 * A minimal TIFF-based RAW (as DNG, NEF, ARW and CR2 are): IFD0 with the image size, IFD1 with
 * the embedded JPEG preview (JPEGInterchangeFormat/Length), then the preview and some "sensor data".
 */
export function makeTiffRaw(sensorBytes = 200_000): Buffer {
  const preview = makeJpeg(160, 120);
  const entries0: [number, number, number][] = [
    [0x0100, 4, 6000], // ImageWidth (LONG)
    [0x0101, 4, 4000], // ImageLength
  ];
  const ifd0 = 8;
  const ifd0Size = 2 + entries0.length * 12 + 4;
  const ifd1 = ifd0 + ifd0Size;
  const entries1: [number, number, number][] = [
    [0x0103, 3, 6], // Compression: old-style JPEG (thumbnail)
    [0x0201, 4, 0], // JPEGInterchangeFormat (offset, filled below)
    [0x0202, 4, preview.length], // JPEGInterchangeFormatLength
  ];
  const ifd1Size = 2 + entries1.length * 12 + 4;
  const previewAt = ifd1 + ifd1Size;
  entries1[1][2] = previewAt;
  const out = Buffer.alloc(previewAt + preview.length + sensorBytes);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifd0, 4);
  const writeIfd = (at: number, entries: [number, number, number][], next: number) => {
    out.writeUInt16LE(entries.length, at);
    entries.forEach(([tag, type, value], i) => {
      const e = at + 2 + i * 12;
      out.writeUInt16LE(tag, e);
      out.writeUInt16LE(type, e + 2);
      out.writeUInt32LE(1, e + 4);
      if (type === 3) out.writeUInt16LE(value, e + 8);
      else out.writeUInt32LE(value, e + 8);
    });
    out.writeUInt32LE(next, at + 2 + entries.length * 12);
  };
  writeIfd(ifd0, entries0, ifd1);
  writeIfd(ifd1, entries1, 0);
  preview.copy(out, previewAt);
  randomBytes(sensorBytes).copy(out, previewAt + preview.length);
  return out;
}

/** A minimal MP4: ftyp, moov (with an mvhd-sized payload), mdat of random "video". */
export function makeMp4(mdatBytes = 300_000): Buffer {
  const box = (type: string, payload: Buffer) => {
    const b = Buffer.alloc(8 + payload.length);
    b.writeUInt32BE(b.length, 0);
    b.write(type, 4, 'latin1');
    payload.copy(b, 8);
    return b;
  };
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.alloc(4), Buffer.from('isomiso2mp41', 'latin1')]));
  const moov = box('moov', box('mvhd', Buffer.alloc(100)));
  return Buffer.concat([ftyp, moov, box('mdat', randomBytes(mdatBytes))]);
}
