import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** What this workstation knows about one file of a card it is ingesting. */
export interface FileRecord {
  size: number;
  mtimeMs: number;
  /** The tus upload URL: the upload resumes there (HEAD) after any interruption. */
  uploadUrl?: string;
  /** The source hashes, once the whole file was read: a finished upload is sealed without reading the card again. */
  xxh64?: string;
  sha256?: string;
  /** The server sealed it (outcome: stored, duplicate, twin, version, history). */
  sealed?: { outcome: string; at: string };
}

export interface StateDocument {
  version: 1;
  server: string;
  project: string;
  label: string;
  cardPath: string;
  cardId?: string;
  updatedAt: string;
  files: Record<string, FileRecord>;
}

/** State files not touched for this long are removed (a card ingested months ago). */
const STALE_MS = 60 * 24 * 3600_000;

/**
 * `$STUDIOVAULT_STATE_DIR/ingest`, else `$XDG_STATE_HOME/studiovault/ingest`, else
 * `~/.local/state/studiovault/ingest`.
 */
export function ingestStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STUDIOVAULT_STATE_DIR) return join(resolve(env.STUDIOVAULT_STATE_DIR), 'ingest');
  const base = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state');
  return join(base, 'studiovault', 'ingest');
}

/** One state file per (server, project, card label, card path). */
export function ingestStateKey(server: string, project: string, label: string, cardPath: string): string {
  return createHash('sha256')
    .update([server, project, label.normalize('NFC'), cardPath].join('\n'))
    .digest('hex');
}

/**
 * The resume state of one card ingest: for each file (relative path, with its size and mtime)
 * its tus upload URL, its source hashes once known, and whether it was sealed. Written
 * atomically (temporary file, fsync, rename) so a killed CLI leaves the old or the new state,
 * never half of one. Writes are coalesced: many files finishing at once cost one write.
 */
export class IngestState {
  private writing?: Promise<void>;
  private dirty = false;

  private constructor(
    readonly path: string,
    readonly doc: StateDocument,
    /** Why the state file could not be used (damaged, unreadable): started afresh. */
    readonly problem?: string,
  ) {}

  static async load(dir: string, meta: Omit<StateDocument, 'version' | 'updatedAt' | 'files' | 'cardId'>): Promise<IngestState> {
    const path = join(dir, `${ingestStateKey(meta.server, meta.project, meta.label, meta.cardPath)}.json`);
    const fresh: StateDocument = { version: 1, ...meta, updatedAt: new Date().toISOString(), files: {} };
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new IngestState(path, fresh);
      return new IngestState(path, fresh, `cannot read it: ${(err as Error).message}`);
    }
    try {
      const doc = JSON.parse(text) as StateDocument;
      if (doc.version !== 1 || typeof doc.files !== 'object' || doc.files === null) throw new Error('unknown format');
      return new IngestState(path, { ...doc, ...meta });
    } catch {
      return new IngestState(path, fresh, 'it is damaged');
    }
  }

  /** The record of a file, when it is the same file (same size and mtime) as now on the card. */
  get(rel: string, size: number, mtimeMs: number): FileRecord | undefined {
    const r = this.doc.files[rel];
    return r && r.size === size && r.mtimeMs === mtimeMs ? r : undefined;
  }

  /** Changes a file's record (creating it for this size and mtime; a changed file starts afresh). */
  update(rel: string, size: number, mtimeMs: number, patch: Partial<FileRecord>): void {
    const current = this.get(rel, size, mtimeMs) ?? { size, mtimeMs };
    const next: FileRecord = { ...current, ...patch, size, mtimeMs };
    for (const k of Object.keys(next) as (keyof FileRecord)[]) if (next[k] === undefined) delete next[k];
    this.doc.files[rel] = next;
    this.dirty = true;
  }

  /** Forgets a file's record. */
  forget(rel: string): void {
    if (rel in this.doc.files) {
      delete this.doc.files[rel];
      this.dirty = true;
    }
  }

  set cardId(id: string) {
    if (this.doc.cardId !== id) {
      this.doc.cardId = id;
      this.dirty = true;
    }
  }

  /** Writes the state if it changed; resolves when what was changed before the call is on disk. */
  save(): Promise<void> {
    if (!this.dirty && !this.writing) return Promise.resolve();
    const run = async (): Promise<void> => {
      while (this.dirty) {
        this.dirty = false;
        this.doc.updatedAt = new Date().toISOString();
        await writeAtomically(this.path, `${JSON.stringify(this.doc)}\n`);
      }
    };
    // Chain: one write at a time; a save during a write waits for the write that includes it.
    const next = (this.writing ?? Promise.resolve()).then(run, run).finally(() => {
      if (this.writing === next) this.writing = undefined;
    });
    this.writing = next;
    return next;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  try {
    const d = await open(dir, fsConstants.O_RDONLY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}

/** Removes state files (and leftovers of interrupted writes) nobody touched for two months. Best effort. */
export async function pruneStaleStates(dir: string, now = Date.now()): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.json') && !name.endsWith('.tmp')) continue;
    try {
      const s = await stat(join(dir, name));
      const limit = name.endsWith('.tmp') ? 24 * 3600_000 : STALE_MS;
      if (now - s.mtimeMs > limit) await unlink(join(dir, name));
    } catch {
      // best effort
    }
  }
}
