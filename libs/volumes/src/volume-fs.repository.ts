import { Injectable } from '@nestjs/common';
import { mkdir, stat, statfs } from 'node:fs/promises';

export interface VolumeProbe {
  deviceId: string;
  freeBytes: bigint;
  totalBytes: bigint;
}

/** The file system behind a volume root: the only place volumes touch the disk. */
@Injectable()
export class VolumeFsRepository {
  async ensureRoot(root: string): Promise<void> {
    await mkdir(root, { recursive: true });
  }

  async probe(root: string): Promise<VolumeProbe> {
    const [st, fsst] = await Promise.all([stat(root, { bigint: true }), statfs(root, { bigint: true })]);
    if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
    return { deviceId: st.dev.toString(), freeBytes: fsst.bavail * fsst.bsize, totalBytes: fsst.blocks * fsst.bsize };
  }
}
