import { Injectable } from '@nestjs/common';
import exifr from 'exifr';

export interface CameraData {
  make?: string;
  model?: string;
  serial?: string;
  captureTime?: Date;
}

/** EXIF of a photo or RAW (exifr: reads only the header blocks it needs). Unknown formats give null. */
@Injectable()
export class ExifReader {
  async read(path: string): Promise<CameraData | null> {
    try {
      const tags = (await exifr.parse(path, {
        pick: ['Make', 'Model', 'SerialNumber', 'BodySerialNumber', 'InternalSerialNumber', 'DateTimeOriginal', 'CreateDate'],
        translateValues: true,
        reviveValues: true,
      })) as Record<string, unknown> | undefined;
      if (!tags) return null;
      const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);
      const date = [tags.DateTimeOriginal, tags.CreateDate].find((d) => d instanceof Date && !Number.isNaN(d.getTime())) as
        Date | undefined;
      return {
        make: str(tags.Make),
        model: str(tags.Model),
        serial: str(tags.SerialNumber) ?? str(tags.BodySerialNumber) ?? str(tags.InternalSerialNumber),
        captureTime: date,
      };
    } catch {
      return null; // not a format exifr knows, or no EXIF: the catalog keeps nulls
    }
  }
}
