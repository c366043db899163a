/**
 * `studiovault restore PROJECT --to DIR`: a restore through the StudioVault server, the usual
 * way. The server says which files the selection means (GET /api/projects/{slug}/restore-plan:
 * cards, as of --at); the CLI checks the folder before it writes anything (a folder it can
 * write to, room for every byte, none of the files there yet), then downloads a few files at
 * once (GET /api/assets/{id}/content, from the best healthy copy or the one --from names) and
 * writes each under DIR/<card label>/<path on the card>: hashed while it is written, fsynced,
 * and given its final name only when its SHA-256 matches the catalog, never over a file.
 */
import { lstat, mkdir, stat } from 'node:fs/promises';
import { dirname, join, parse, resolve } from 'node:path';
import { Option } from 'commander';
import type { paths, Schemas } from '@studiovault/api-client';
import { compileRestorePattern, restorePatternsSelect, unsafeRelativePath } from '@studiovault/contracts';
import { type Api, NETWORK_REASONS, USER_AGENT } from '../api';
import type { Context } from '../context';
import { CliError, CliErrorCode, ExitCode, SilentExit, usageError } from '../errors';
import { formatBytes, formatDuration, formatRate, Progress } from '../ingest/progress';
import { clean } from '../output';
import { freeSpace, probeWritable, type Source, writeVerified } from '../restore/verified-write';
import { DEFAULT_CONCURRENCY, type FromTargetOptions } from './restore-from-target';

type PlanFile = Schemas['RestoreFileDto'];
type Plan = Schemas['RestorePlanDto'];

export const RESTORE_SOURCES = ['primary', 'mirror', 'offsite'] as const;
export type RestoreSource = (typeof RESTORE_SOURCES)[number];

/** `restore` through the server: the common options, --from, and the target's options (refused here). */
export interface FromServerOptions extends FromTargetOptions {
  from?: RestoreSource;
}

/**
 * Where a file's bytes come from (getFileContent, the catalog's asset id). Fetched without the
 * typed client: its calls time out after 30 s and buffer the body; a download streams for as
 * long as bytes keep coming.
 */
const CONTENT_ROUTE: keyof paths = '/api/assets/{id}/content';
export const CONTENT_PATH = (assetId: string) => CONTENT_ROUTE.replace('{id}', encodeURIComponent(assetId));

/** A download that sends nothing for this long is given up (and tried again). */
const IDLE_MS = 60_000;
/** Tries of one download when the network or the server has trouble. */
const MAX_ATTEMPTS = 3;
/** Files named in the error when some are in the way, and in its details. */
const EXISTING_NAMED = 5;
const EXISTING_DETAILS = 100;
const ERRORS_SHOWN = 50;

/** The options that only mean something with --from-target. */
const TARGET_FLAGS = ['endpoint', 'region', 'bucket', 'prefix', 'pathStyle', 'accessKeyId', 'secretAccessKeyFile', 'targetPath'] as const;

const SOURCE_WORDS: Record<RestoreSource | 'auto', string> = {
  auto: 'the best healthy copy',
  primary: 'the primary volume',
  mirror: 'the mirror volume',
  offsite: 'the off-site copy',
};

/** `--from`, added to `restore` beside the common options. */
export function fromOption(): Option {
  return new Option(
    '--from <source>',
    'read every file from this copy (default: the best healthy one: the primary volume, else the mirror, else off-site)',
  ).choices(RESTORE_SOURCES);
}

/** How `restore` through the server works, for its help. */
export const FROM_SERVER_HELP = [
  '',
  'Through the StudioVault server (the usual way): the server lists the files of the project (its cards, only',
  '--card, as of --at), then the folder is checked before anything is written: the CLI must be able to write to it',
  '(it is created when missing), the disk must have room for every byte, and none of the files may be there yet',
  '(existing files are never overwritten: the restore is refused and names them). Each file is downloaded into a',
  'temp file beside its final name while its SHA-256 is computed, fsynced, and given its name only when the hash',
  "matches the catalog's; a file that does not match is not written and counts as failed, with both hashes named.",
  'Without --from a copy that does not match is reported and the next healthy copy is tried. --path globs follow the',
  'rules below. Needs a StudioVault login (an editor or admin).',
  '',
  'Exit codes: 0 every file restored and verified, 1 a file failed, or the restore could not start (no such project',
  'or card, nothing at --at, a folder that cannot be written, not enough space, files already there), 2 usage, 3 the',
  'server cannot be reached, 130 interrupted.',
  '',
  'Examples:',
  '  studiovault restore anna-ben-wedding --to ~/Restore',
  "  studiovault restore anna-ben-wedding --card A001 --path 'DCIM/**/*.CR3' --from mirror --to ~/Restore --json",
  '  studiovault restore anna-ben-wedding --at 2026-09-30 --to /Volumes/Work/anna-ben',
].join('\n');

// ---- the plan ----------------------------------------------------------------------------------

/** A server error of the plan, as one line: its details only repeat the message. */
function planError(err: unknown): unknown {
  if (!(err instanceof CliError) || err.exitCode !== ExitCode.Failed) return err;
  return new CliError(err.code, err.message, err.exitCode, undefined, err.requestId);
}

/** The files of the project (per --card: the server takes one card at a time), in the server's order. */
async function fetchPlan(api: Api, slug: string, cards: string[] | undefined, at: string | undefined): Promise<Plan> {
  const wanted: (string | undefined)[] = [];
  for (const c of cards ?? []) if (!wanted.some((w) => w?.toLowerCase() === c.toLowerCase())) wanted.push(c);
  if (!wanted.length) wanted.push(undefined);
  let plan: Plan | undefined;
  for (const card of wanted) {
    const one: Plan = await api
      .call(api.client.GET('/api/projects/{slug}/restore-plan', { params: { path: { slug }, query: { card, at } } }))
      .catch((err: unknown) => Promise.reject(planError(err)));
    if (!plan) plan = one;
    else plan = { ...plan, files: [...plan.files, ...one.files], bytes: plan.bytes + one.bytes };
  }
  return plan!;
}

// ---- the destination ---------------------------------------------------------------------------

/** The nearest of `path` and its parents that exists (a file in the way counts: it is what stops a folder). */
async function nearestExisting(path: string): Promise<string> {
  let p = path;
  for (;;) {
    try {
      await lstat(p);
      return p;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    const up = dirname(p);
    if (up === p || up === parse(p).root) return up;
    p = up;
  }
}

const FS_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file is in the way of a folder',
  EEXIST: 'a file is in the way of a folder',
  ENAMETOOLONG: 'name too long',
  EIO: 'I/O error',
};

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${FS_WORDS[e.code] ?? e.code}${e.syscall ? ` (${e.syscall})` : ''}` : String((err as Error)?.message ?? err);
}

function notWritable(message: string): CliError {
  return new CliError('DESTINATION_NOT_WRITABLE', `${message}; nothing was restored`, ExitCode.Failed);
}

interface Planned extends PlanFile {
  dest: string;
}

/**
 * Checks the folder before anything is written: a folder (or a place to make one) the CLI can
 * write to, room for every file, none of the files there yet. Creates it when all is well.
 */
async function prepareDestination(to: string, typed: string, files: Planned[]): Promise<void> {
  const there = await stat(to).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw notWritable(`cannot restore into ${to}: ${describeFsError(err)}`);
  });
  if (there && !there.isDirectory()) throw notWritable(`cannot restore into ${to} (--to ${typed}): it is a file, not a folder`);
  const base = there ? to : await nearestExisting(to);
  const baseStat = await stat(base).catch(() => null);
  if (!baseStat?.isDirectory()) {
    throw notWritable(`cannot restore into ${to}: ${base} is ${baseStat ? 'a file, not a folder' : 'not there'}`);
  }
  try {
    await probeWritable(base);
  } catch (err) {
    throw notWritable(`cannot write to ${base}${base === to ? '' : ` (to create ${to} in it)`}: ${describeFsError(err)}`);
  }

  if (there) {
    const inTheWay: string[] = [];
    for (const f of files) {
      const found = await lstat(f.dest).then(
        () => true,
        (err: NodeJS.ErrnoException) => err.code === 'ENOTDIR', // a file where one of its folders goes
      );
      if (found) inTheWay.push(f.restorePath);
    }
    if (inTheWay.length) {
      const named = inTheWay.slice(0, EXISTING_NAMED).join(', ');
      throw new CliError(
        'FILES_EXIST',
        `${inTheWay.length} of the ${files.length} file(s) to restore are already in ${to} (${named}` +
          `${inTheWay.length > EXISTING_NAMED ? ', …' : ''}): existing files are never overwritten; ` +
          'restore into an empty folder or move them away; nothing was restored',
        ExitCode.Failed,
        inTheWay.slice(0, EXISTING_DETAILS),
      );
    }
  }

  const { free, blockSize } = await freeSpace(base);
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const needed = files.reduce((a, f) => a + Math.ceil(f.size / blockSize) * blockSize, 0);
  if (needed > free) {
    throw new CliError(
      'NOT_ENOUGH_SPACE',
      `not enough space to restore into ${to}: ${files.length} file(s) of ${formatBytes(bytes)} take ${needed} bytes on its disk, ` +
        `which has ${free} bytes (${formatBytes(free)}) free: ${needed - free} bytes (${formatBytes(needed - free)}) missing; ` +
        'nothing was restored',
      ExitCode.Failed,
    );
  }
  try {
    await mkdir(to, { recursive: true });
  } catch (err) {
    throw notWritable(`cannot create ${to}: ${describeFsError(err)}`);
  }
}

// ---- downloads ---------------------------------------------------------------------------------

/** Why a download failed: `retry` ones are tried again, `fatal` ones stop the restore (every file would fail). */
class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly reason: 'missing' | 'no-copy' | 'download',
    readonly retry: boolean,
    readonly fatal = false,
    readonly code = 'DOWNLOAD_FAILED',
  ) {
    super(message);
  }
}

/** The server announced another hash than the plan's (the catalog changed in between): the bytes are not read. */
class AnnouncedHashMismatch extends Error {
  override name = 'AnnouncedHashMismatch';
  constructor(
    readonly announced: string,
    readonly source: string | null,
  ) {
    super(`the server announced SHA-256 ${announced}`);
  }
}

const RETRY_CODES = new Set(['TOO_MANY_REQUESTS', 'INTERNAL_ERROR', 'VOLUME_OFFLINE']);

function networkWords(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  const code = e?.cause?.code ?? '';
  if (NETWORK_REASONS[code]) return `${NETWORK_REASONS[code]} (${code})`;
  return e?.cause?.message ?? e?.message ?? String(err);
}

/** The server's answer when it is not the file: the StudioVault error (code, message), else the status. */
async function refusal(api: Api, res: Response, assetId: string, from: RestoreSource | undefined): Promise<DownloadError> {
  const text = await res.text().catch(() => '');
  let body: { code?: unknown; message?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const code = typeof body?.code === 'string' ? body.code : undefined;
  const message = typeof body?.message === 'string' ? body.message : undefined;
  const request = `GET ${CONTENT_PATH(assetId)}${from ? `?from=${from}` : ''}`;
  if (!code) {
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return new DownloadError(`${request} answered ${status} without a StudioVault error`, 'download', res.status >= 500);
  }
  if (code === 'ROUTE_NOT_FOUND') {
    return new DownloadError(
      `the server at ${api.server} cannot send file contents (${request}: ${code}); update StudioVault on the NAS, ` +
        'or restore from the off-site target with --from-target',
      'download',
      false,
      true,
      code,
    );
  }
  if (res.status === 401 || res.status === 403) {
    return new DownloadError(`the server refused the download: ${message ?? code} (${code})`, 'download', false, true, code);
  }
  if (code === 'NOT_FOUND') return new DownloadError(`${message ?? 'not found'} (${code})`, 'missing', false);
  if (code === 'NO_HEALTHY_COPY' || code === 'SERVICE_UNAVAILABLE')
    return new DownloadError(`${message ?? 'no healthy copy'} (${code})`, 'no-copy', false);
  return new DownloadError(`${message ?? `HTTP ${res.status}`} (${code})`, 'download', RETRY_CODES.has(code));
}

/**
 * Opens one file's bytes on the server: the response body, given up when it sends nothing for
 * IDLE_MS. `onSource` gets the copy the server read (X-Restore-Source).
 */
function contentSource(
  api: Api,
  file: PlanFile,
  from: RestoreSource | undefined,
  signal: AbortSignal,
  onSource: (source: string | null) => void,
): Source {
  return async () => {
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let idle = false;
    const timer = setTimeout(() => {
      idle = true;
      ctrl.abort();
    }, IDLE_MS);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ctrl.abort();
    };
    let res: Response;
    try {
      const url = `${api.server}${CONTENT_PATH(file.assetId)}${from ? `?from=${from}` : ''}`;
      res = await fetch(url, {
        headers: { Authorization: `Bearer ${api.token ?? ''}`, 'User-Agent': USER_AGENT, Accept: 'application/octet-stream' },
        signal: ctrl.signal,
      });
    } catch (err) {
      done();
      if (signal.aborted) throw err;
      const why = idle ? `no answer within ${IDLE_MS / 1000} s` : networkWords(err);
      throw new DownloadError(
        `cannot reach the StudioVault server at ${api.server}: ${why}`,
        'download',
        true,
        false,
        CliErrorCode.ServerUnreachable,
      );
    }
    if (!res.ok || !res.body) {
      const err = await refusal(api, res, file.assetId, from);
      done();
      throw err;
    }
    const source = res.headers.get('x-restore-source');
    onSource(source);
    const announced = res.headers.get('x-checksum-sha256')?.trim().toLowerCase();
    if (announced && announced !== file.sha256.toLowerCase()) {
      done();
      throw new AnnouncedHashMismatch(announced, source);
    }
    const stream = res.body;
    const body = (async function* () {
      try {
        for await (const chunk of stream) {
          timer.refresh();
          yield chunk;
        }
      } catch (err) {
        if (signal.aborted) throw err;
        const why = idle ? `the server sent nothing for ${IDLE_MS / 1000} s` : networkWords(err);
        throw new DownloadError(`the download broke off: ${why}`, 'download', true);
      }
    })();
    return { body, destroy: done };
  };
}

// ---- the restore -------------------------------------------------------------------------------

type FailReason =
  'exists' | 'mismatch' | 'invalid' | 'conflict' | 'missing' | 'no-copy' | 'download' | 'write' | 'not-attempted' | 'cancelled';

interface FileError {
  /** Where the file goes under DIR: <card label>/<path on the card>. */
  path: string;
  message: string;
  reason: FailReason;
  card: string;
  expectedSha256?: string;
  actualSha256?: string | null;
  source?: string | null;
}

type CopyOutcome = { kind: 'restored'; source: string | null } | { kind: 'failed' } | { kind: 'bad'; error: FileError };

function sourceWords(source: string | null): string {
  if (!source) return 'the server';
  return source in SOURCE_WORDS ? SOURCE_WORDS[source as RestoreSource] : `the ${source} copy`;
}

const READ_SYSCALLS = new Set(['read', 'connect', 'getaddrinfo']);

/** Whether a failure came from the destination (a write, a link…) rather than from the download. */
function isWriteError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return !(err instanceof DownloadError) && typeof e?.syscall === 'string' && !READ_SYSCALLS.has(e.syscall);
}

/** Destination failures after which every further file fails too. */
const FATAL_WRITE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function restoreFromServer(ctx: Context, opts: FromServerOptions, slug?: string): Promise<void> {
  const targetFlags = TARGET_FLAGS.filter((k) => opts[k] !== undefined);
  if (targetFlags.length) {
    const names = targetFlags.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw usageError(
      `${names.join(', ')} ${names.length > 1 ? 'go' : 'goes'} with --from-target (a restore from an off-site target without the server); ` +
        'without --from-target the restore goes through the server',
    );
  }
  if (!slug) {
    throw usageError(
      'the project is missing: studiovault restore PROJECT --to DIR (restore --from-target … without a project lists what a target holds)',
    );
  }
  if (!opts.to?.trim()) throw usageError('--to DIR is missing: the folder to restore into (existing files are never overwritten)');
  const to = resolve(opts.to.trim());
  const at = opts.at;
  const from = opts.from;
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const api = await ctx.connect();

  // ---- which files --------------------------------------------------------------------------------
  const plan = await fetchPlan(api, slug, opts.card, at?.at.toISOString());
  const globs = (opts.path ?? []).map((g) => g.normalize('NFC'));
  // The server's rule, the same function (compileRestorePattern): *.JPG selects here what the portal's plan lists.
  const matchers = globs.map(compileRestorePattern);
  const chosen = globs.length ? plan.files.filter((f) => restorePatternsSelect(matchers, f.path)) : plan.files;
  const cards = [...new Set(plan.files.map((f) => f.cardLabel))];
  if (!chosen.length) {
    throw new CliError(
      'NOTHING_TO_RESTORE',
      `no file of ${slug} (card(s) ${cards.join(', ')}${at ? `, as of ${at.raw}` : ''}) matches --path ${globs.join(', ')}`,
      ExitCode.Failed,
    );
  }
  const errors: FileError[] = [];
  const warnings: string[] = [];
  const todo: Planned[] = [];
  const taken = new Set<string>();
  for (const f of chosen) {
    const unsafe = unsafeRelativePath(f.restorePath);
    if (unsafe) {
      errors.push({
        path: f.restorePath,
        card: f.cardLabel,
        reason: 'invalid',
        message: `the server named a destination that cannot be used (${unsafe}); not restored`,
      });
      continue;
    }
    if (taken.has(f.restorePath)) {
      errors.push({
        path: f.restorePath,
        card: f.cardLabel,
        reason: 'conflict',
        message: `another file of the restore goes to ${f.restorePath}; not restored`,
      });
      continue;
    }
    taken.add(f.restorePath);
    todo.push({ ...f, dest: join(to, ...f.restorePath.split('/')) });
  }
  const files = chosen.length;
  const bytes = chosen.reduce((a, f) => a + f.size, 0);

  // ---- the destination ----------------------------------------------------------------------------
  await prepareDestination(to, opts.to, todo);

  // ---- download, verify, write --------------------------------------------------------------------
  const tty = Boolean(process.stderr.isTTY);
  const progress = new Progress({ stream: process.stderr, tty, json: ctx.out.json, label: slug });
  const say = (text: string) => {
    if (!ctx.out.json || tty) progress.log(text);
  };
  const warn = (text: string) => {
    warnings.push(text);
    say(`warning: ${clean(text)}`);
  };
  say(
    `Restoring ${todo.length} file(s), ${formatBytes(todo.reduce((a, f) => a + f.size, 0))}, of project ${slug} ` +
      `(card(s) ${[...new Set(todo.map((f) => f.cardLabel))].join(', ')}${at ? `, as of ${at.raw}` : ''}) ` +
      `from ${SOURCE_WORDS[from ?? 'auto']} into ${to}`,
  );
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let fatal: { code: string; message: string } | undefined;
  let restored = 0;
  let restoredBytes = 0;
  const sources: Record<string, number> = {};
  const started = Date.now();

  const fail = (f: Planned, reason: FailReason, message: string, extra: Partial<FileError> = {}) =>
    errors.push({ path: f.restorePath, card: f.cardLabel, reason, message, ...extra });
  const stop = (code: string, message: string) => {
    fatal ??= { code, message };
  };

  /**
   * One copy of the file (`copy` undefined: the one the server picks): 'restored', 'failed' (the
   * failure is recorded), or the copy's bytes do not match (or it is not there) and the next
   * copy may be tried.
   */
  const tryCopy = async (f: Planned, copy: RestoreSource | undefined, update: (bytes: number) => void): Promise<CopyOutcome> => {
    let source: string | null = null;
    const expected = { size: f.size, sha256: f.sha256.toLowerCase() };
    for (let attempt = 1; ; attempt++) {
      try {
        const read = contentSource(api, f, copy, abort.signal, (s) => (source = s));
        const outcome = await writeVerified(f.dest, expected, read, update);
        if (outcome.status === 'restored') {
          restored++;
          restoredBytes += outcome.bytes;
          sources[source ?? 'unknown'] = (sources[source ?? 'unknown'] ?? 0) + 1;
          return { kind: 'restored', source };
        }
        if (outcome.status === 'exists') {
          fail(
            f,
            'exists',
            `a file named ${f.dest} is there (it appeared while the restore ran, or its name differs only in case ` +
              'from a restored one on a disk that ignores case); it was not overwritten',
          );
          return { kind: 'failed' };
        }
        const got =
          outcome.sha256 === null
            ? `more than the catalog's ${f.size} bytes`
            : `${outcome.sha256}${outcome.bytes !== f.size ? ` (${outcome.bytes} bytes, the catalog says ${f.size})` : ''}`;
        return {
          kind: 'bad',
          error: {
            path: f.restorePath,
            card: f.cardLabel,
            reason: 'mismatch',
            message: `the bytes read from ${sourceWords(source)} do not match the catalog: SHA-256 expected ${f.sha256}, got ${got}; not written`,
            expectedSha256: f.sha256,
            actualSha256: outcome.sha256,
            source,
          },
        };
      } catch (err) {
        if (abort.signal.aborted) {
          fail(f, 'cancelled', 'interrupted');
          return { kind: 'failed' };
        }
        if (err instanceof AnnouncedHashMismatch) {
          return {
            kind: 'bad',
            error: {
              path: f.restorePath,
              card: f.cardLabel,
              reason: 'mismatch',
              message:
                `the server announced SHA-256 ${err.announced} (X-Checksum-Sha256), the restore plan says ${f.sha256}: ` +
                'the catalog changed while the restore ran; not written',
              expectedSha256: f.sha256,
              actualSha256: err.announced,
              source: err.source,
            },
          };
        }
        if (isWriteError(err)) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (FATAL_WRITE_CODES.has(code)) stop('WRITE_FAILED', `${describeFsError(err)} in ${to}`);
          fail(f, 'write', `cannot write ${f.dest}: ${describeFsError(err)}`);
          return { kind: 'failed' };
        }
        if (!(err instanceof DownloadError)) throw err;
        if (err.fatal) {
          stop(err.code, err.message);
          fail(f, 'download', err.message);
          return { kind: 'failed' };
        }
        if (err.retry && attempt < MAX_ATTEMPTS) {
          say(`${clean(f.restorePath)}: ${clean(err.message)}; trying again in ${attempt} s`);
          update(0);
          await sleep(attempt * 1000);
          continue;
        }
        // Still no server after the retries: the other files would only wait for it too.
        if (err.code === CliErrorCode.ServerUnreachable) stop(err.code, err.message);
        // The server's messages start with the file's card and path, which the error names already.
        const prefix = `${f.cardLabel}/${f.path}: `;
        const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
        if (err.reason === 'no-copy' && copy !== undefined && from === undefined) {
          // Looking for another copy after a mismatch: this one is not there either.
          return { kind: 'bad', error: { path: f.restorePath, card: f.cardLabel, reason: 'no-copy', message, source: copy } };
        }
        fail(f, err.reason, message);
        return { kind: 'failed' };
      }
    }
  };

  /**
   * A local copy that did not match is reported to the server (it marks the copy, puts the file at
   * risk and heals it from a good copy); the restore goes on whatever the report's fate.
   */
  const reportDamage = async (f: Planned, bad: FileError[]): Promise<void> => {
    for (const b of bad) {
      if (b.reason !== 'mismatch' || (b.source !== 'primary' && b.source !== 'mirror')) continue;
      try {
        await api.call(
          api.client.POST('/api/assets/{id}/copies/report', {
            params: { path: { id: f.assetId } },
            body: { volume: b.source, kind: 'mismatch', detail: b.message.slice(0, 1000) },
          }),
        );
        say(`${clean(f.restorePath)}: the damaged ${b.source} copy was reported to the server, which heals it`);
      } catch (err) {
        warn(`${f.restorePath}: could not report the damaged ${b.source} copy to the server: ${(err as Error).message}`);
      }
    }
  };

  const restoreOne = async (f: Planned): Promise<void> => {
    const fp = progress.file(f.restorePath, f.size);
    fp.update(0);
    const update = (n: number) => fp.update(n);
    try {
      const first = await tryCopy(f, from, update);
      if (first.kind !== 'bad') return;
      const bad: FileError[] = [first.error];
      // Without --from: a copy that does not match is reported, and the next healthy one is tried.
      if (from === undefined) {
        const tried = new Set<string | null | undefined>([first.error.source]);
        for (const copy of RESTORE_SOURCES) {
          if (tried.has(copy) || abort.signal.aborted || fatal) continue;
          tried.add(copy);
          update(0);
          const other = await tryCopy(f, copy, update);
          if (other.kind === 'failed') return;
          if (other.kind === 'restored') {
            await reportDamage(f, bad);
            for (const b of bad.filter((x) => x.reason === 'mismatch')) {
              warn(
                `${f.restorePath}: the copy on ${sourceWords(b.source ?? null)} does not match the catalog (SHA-256 ` +
                  `${b.actualSha256 ?? '?'}, expected ${f.sha256}); restored from ${sourceWords(other.source)} instead`,
              );
            }
            return;
          }
          bad.push(other.error);
        }
      }
      const damaged = bad.filter((b) => b.reason === 'mismatch');
      await reportDamage(f, damaged);
      if (damaged.length) errors.push({ ...damaged[0], message: damaged.map((b) => b.message).join('; ') });
      else errors.push(bad[0]);
    } finally {
      fp.end();
    }
  };

  progress.start(
    todo.reduce((a, f) => a + f.size, 0),
    todo.length,
  );
  let next = 0;
  try {
    const worker = async () => {
      while (!fatal && !abort.signal.aborted && next < todo.length) await restoreOne(todo[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  for (const f of todo.slice(next)) {
    if (abort.signal.aborted) fail(f, 'cancelled', 'interrupted before this file');
    else fail(f, 'not-attempted', `not tried: ${fatal?.message}`);
  }
  const seconds = (Date.now() - started) / 1000;
  if (fatal && restored === 0 && errors.every((e) => e.reason === 'download' || e.reason === 'not-attempted')) {
    // Nothing could be read at all (a server without the download, a revoked token): one error says why.
    const exit = fatal.code === CliErrorCode.ServerUnreachable ? ExitCode.Unreachable : ExitCode.Failed;
    throw new CliError(fatal.code, `${fatal.message}; nothing was restored`, exit);
  }

  // ---- the summary --------------------------------------------------------------------------------
  const order = new Map(chosen.map((f, i) => [f.restorePath, i]));
  errors.sort((a, b) => (order.get(a.path) ?? -1) - (order.get(b.path) ?? -1));
  const document = {
    project: plan.projectSlug,
    projectName: plan.projectName,
    to,
    from: from ?? 'auto',
    at: at ? { given: at.raw, time: at.at.toISOString() } : null,
    cards,
    files,
    bytes,
    restored,
    verified: restored,
    failed: errors.length,
    restoredBytes,
    seconds: Number(seconds.toFixed(3)),
    bytesPerSecond: seconds > 0 ? Math.round(restoredBytes / seconds) : null,
    sources,
    errors,
    warnings,
  };
  ctx.out.result(document, () => {
    const o = (t = '') => ctx.out.line(t);
    o(`Project ${slug} "${clean(plan.projectName)}"${at ? `, as of ${at.raw}` : ''}, from ${SOURCE_WORDS[from ?? 'auto']}, into ${to}`);
    o(
      `Restored ${restored} of ${files} file(s), ${formatBytes(restoredBytes)} in ${formatDuration(seconds)} ` +
        `(${formatRate(seconds > 0 ? restoredBytes / seconds : 0)})`,
    );
    const read = Object.entries(sources).map(([s, n]) => `${n} from ${sourceWords(s)}`);
    o(`Verified ${restored} (SHA-256 of the bytes written matches the catalog)${read.length ? `; read ${read.join(', ')}` : ''}`);
    for (const e of errors.slice(0, ERRORS_SHOWN)) o(`FAILED ${clean(e.path)}: ${clean(e.message)} (${e.reason})`);
    if (errors.length > ERRORS_SHOWN) o(`… and ${errors.length - ERRORS_SHOWN} more (--json lists them all)`);
    o(`Failed ${errors.length}`);
    o(
      errors.length === 0
        ? `RESTORE COMPLETE: ${restored} file(s), every one verified`
        : `RESTORE INCOMPLETE: ${errors.length} of ${files} file(s) not restored`,
    );
  });
  if (abort.signal.aborted) throw new SilentExit(ExitCode.Cancelled);
  if (errors.length) throw new SilentExit(ExitCode.Failed);
}
