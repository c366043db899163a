import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Repository } from 'typeorm';
import { AppError } from '@studiovault/common';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { AppConfig, CONFIG, isSameOrInside, systemFolderProblem } from '@studiovault/config';
import { ErrorCode } from '@studiovault/contracts';

/** What an admin points the server at: a folder to restore into, or a disk target's folder. */
export type FolderUse = 'restore' | 'diskTarget';

export interface AllowedFolder {
  /** The folder with every symlink resolved: what is written to. */
  path: string;
  /** The allowed root (resolved) it lies in. */
  root: string;
}

const WORDS: Record<FolderUse, { what: string; code: ErrorCode; env: string; field: string }> = {
  restore: {
    what: 'Restores',
    code: ErrorCode.RestoreDestinationNotAllowed,
    env: 'STUDIOVAULT_RESTORE_ROOTS',
    field: 'destination',
  },
  diskTarget: { what: 'Disk targets', code: ErrorCode.TargetPathNotAllowed, env: 'STUDIOVAULT_DISK_TARGET_ROOTS', field: 'path' },
};

/**
 * The folders the server may write into because an admin asked (restores, disk targets): only
 * at or below the roots the installation configured, never in or around a volume, never in a
 * system folder, and never through a symlink that leads out (paths are checked with every
 * symlink resolved, and folders are created one level at a time, each checked to be a real
 * folder, not a link).
 */
@Injectable()
export class AllowedFoldersService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @InjectRepository(StorageVolumeEntity) private readonly volumes: Repository<StorageVolumeEntity>,
  ) {}

  /** The configured roots, for the portal (a list to choose from). */
  roots(): { restoreRoots: string[]; diskTargetRoots: string[] } {
    return { restoreRoots: [...this.config.folders.restoreRoots], diskTargetRoots: [...this.config.folders.diskTargetRoots] };
  }

  /**
   * Checks a folder the admin gave (it need not exist for a restore; it must for a disk target)
   * and returns where it really is. Throws RESTORE_DESTINATION_NOT_ALLOWED / TARGET_PATH_NOT_ALLOWED.
   */
  async check(use: FolderUse, requested: string): Promise<AllowedFolder> {
    const w = WORDS[use];
    const refuse = (why: string): never => {
      throw new AppError(w.code, `${w.what} may not go to ${JSON.stringify(requested)}: ${why}. Nothing was written.`, [
        `${w.field}: ${why}`,
      ]);
    };
    if (typeof requested !== 'string' || !isAbsolute(requested)) refuse('it is not an absolute path');
    if (requested.includes('\0')) refuse('it contains a NUL character');
    const roots = await this.realRoots(use);
    if (!roots.length)
      refuse(
        `no folder is allowed for this (the installation sets ${w.env}${use === 'restore' ? '' : ', e.g. the folder USB drives are mounted under'})`,
      );
    // ".." is resolved first (lexically), then every symlink of the part that exists.
    const lexical = resolve(requested);
    let existing = lexical;
    for (;;) {
      const st = await lstat(existing).catch(() => null);
      if (st) break;
      if (dirname(existing) === existing) break;
      existing = dirname(existing);
    }
    if (use === 'diskTarget' && existing !== lexical)
      refuse('the folder does not exist (mount the drive or share first; it is never created)');
    const real = join(await realpath(existing), relative(existing, lexical));
    const system = systemFolderProblem(real);
    if (system) refuse(system);
    for (const volume of await this.volumeRoots()) {
      if (isSameOrInside(volume, real)) refuse(`it is inside the volume ${volume}`);
      if (isSameOrInside(real, volume)) refuse(`it holds the volume ${volume}`);
    }
    const root = roots.find((r) => isSameOrInside(r, real));
    if (!root) refuse(`it is not inside an allowed folder (${roots.join(', ')}; set by ${w.env})`);
    if (use === 'diskTarget') {
      const st = await lstat(real);
      if (!st.isDirectory()) refuse('it is not a folder');
    }
    return { path: real, root: root! };
  }

  /**
   * Creates a checked folder below its root one level at a time; each level must turn out a real
   * folder (not a symlink someone put there meanwhile) still inside the root.
   */
  async create(use: FolderUse, folder: AllowedFolder): Promise<void> {
    const w = WORDS[use];
    const parts = relative(folder.root, folder.path).split(sep).filter(Boolean);
    let at = folder.root;
    for (const part of parts) {
      at = join(at, part);
      await mkdir(at, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const st = await lstat(at);
      if (!st.isSymbolicLink() && !st.isDirectory())
        throw new AppError(ErrorCode.ValidationFailed, `Cannot write to ${folder.path}: ${at} is a file, not a folder`, [
          `${w.field}: not writable`,
        ]);
      if (st.isSymbolicLink() || !isSameOrInside(folder.root, await realpath(at)))
        throw new AppError(w.code, `${w.what} may not go to ${folder.path}: ${at} is not a plain folder. Nothing was written.`, [
          `${w.field}: ${at} is a link or a file`,
        ]);
    }
  }

  /** Checks (again, at write time) that a folder written into is still where it was allowed. */
  async recheck(use: FolderUse, folder: string): Promise<AllowedFolder> {
    const checked = await this.check(use, folder);
    if (checked.path !== folder)
      throw new AppError(WORDS[use].code, `${folder} now leads elsewhere (${checked.path}): a symlink changed. Nothing was written.`);
    return checked;
  }

  private async realRoots(use: FolderUse): Promise<string[]> {
    const configured = use === 'restore' ? this.config.folders.restoreRoots : this.config.folders.diskTargetRoots;
    const out: string[] = [];
    for (const root of configured) {
      // The default restore folder lives under the data folder: made on first use. Others are the admin's to make.
      if (use === 'restore' && root === resolve(this.config.dataDir, 'restores'))
        await mkdir(root, { recursive: true }).catch(() => undefined);
      const real = await realpath(root).catch(() => null);
      if (real && !systemFolderProblem(real)) out.push(real);
    }
    return out;
  }

  private async volumeRoots(): Promise<string[]> {
    const roots = new Set([this.config.volumes.primaryRoot, this.config.volumes.mirrorRoot]);
    for (const v of await this.volumes.find()) roots.add(v.rootPath);
    const out = new Set<string>();
    for (const r of roots) {
      out.add(resolve(r));
      const real = await realpath(r).catch(() => null);
      if (real) out.add(real);
    }
    return [...out];
  }
}
