/**
 * `studiovault restore --from-target`: the disaster restore. It needs no StudioVault server and
 * no catalog: only the off-site target (an S3 bucket with the target's prefix, or a disk target
 * folder) and the layout of libs/contracts' offsite-layout.ts. It reads the card manifests of a
 * project (the versions current at --at), fetches each file's content object (the version the
 * manifest names), and writes it under DIR/<card label>/<path on the card>: hashed while it is
 * written, fsynced, and given its final name only when its SHA-256 matches, never over an
 * existing file.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import {
  CARD_MANIFEST_FORMAT,
  CARD_MANIFEST_FORMAT_VERSION,
  CARDS_PREFIX,
  CATALOG_EXPORT_KEY,
  compileRestorePattern,
  type CardManifest,
  type CardManifestFile,
  parseManifestKey,
  restorePatternsSelect,
  unsafeRelativePath,
  versionedCardPath,
} from '@studiovault/contracts';
import type { Context } from '../context';
import { CliError, ExitCode, SilentExit, usageError } from '../errors';
import { formatBytes, formatDuration, formatRate, Progress } from '../ingest/progress';
import { type Bucket, BucketError, DiskBucket, type ObjectVersion } from '../restore/bucket';
import { freeSpace, nearestExisting, probeWritable, type Source, writeVerified } from '../restore/verified-write';
import { clean, type Column, formatWhen, table } from '../output';
import { endpointUrl, option, positiveInt } from '../validate';
import { readSecretFile } from './targets';

/** Options of `restore` that every source shares (see restore.ts). */
export interface RestoreCommonOptions {
  card?: string[];
  path?: string[];
  to?: string;
  at?: PointInTime;
  concurrency: number;
}

/** The target's settings, given on the command line (no server to ask). */
export interface FromTargetOptions extends RestoreCommonOptions {
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  pathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKeyFile?: string;
  targetPath?: string;
}

export interface PointInTime {
  /** As typed. */
  raw: string;
  at: Date;
}

export const MAX_CONCURRENCY = 16;
export const DEFAULT_CONCURRENCY = 4;
/** A manifest bigger than this is not a manifest (100 000 files take about 60 MB). */
const MANIFEST_MAX_BYTES = 512 * 1024 * 1024;
/** Reads of one file: network trouble is tried again, a mismatch is read once more (a flipped bit on the way). */
const MAX_ATTEMPTS = 3;
const MISMATCH_ATTEMPTS = 2;
const ERRORS_SHOWN = 50;

export const ENV_ACCESS_KEY_ID = 'STUDIOVAULT_RESTORE_ACCESS_KEY_ID';
export const ENV_SECRET_FILE = 'STUDIOVAULT_RESTORE_SECRET_ACCESS_KEY_FILE';

/**
 * `--at`: a date (the end of that day, local time) or a date and time (local time unless it
 * ends in Z or an offset).
 */
export function pointInTime(raw: string): PointInTime {
  const value = raw.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  let at: Date | undefined;
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d)
      at = new Date(y, m - 1, d, 23, 59, 59, 999);
  } else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value)) {
    const t = Date.parse(value.replace(' ', 'T'));
    if (!Number.isNaN(t)) at = new Date(t);
  }
  if (!at) {
    throw new Error(
      'must be a date (YYYY-MM-DD: the end of that day) or a date and time (2026-09-12T18:30, local time, or with Z or an offset)',
    );
  }
  return { raw: value, at };
}

/** The options that name the target; added to `restore` beside the common ones. */
export function addFromTargetOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'S3: the endpoint, e.g. https://s3.eu-central-003.backblazeb2.com (omit for AWS S3)', option(endpointUrl))
    .option('--region <region>', 'S3: the region, e.g. eu-central-003 (us-east-1 for MinIO and Ceph RGW)')
    .option('--bucket <bucket>', 'S3: the bucket')
    .option('--prefix <prefix>', "S3: the target's folder in the bucket, e.g. studio-nas/ (as the target was set up)")
    .option('--path-style', 'S3: path-style URLs (endpoint/bucket/key), the default with --endpoint')
    .option('--no-path-style', 'S3: virtual-hosted URLs (bucket.endpoint/key)')
    .option('--access-key-id <id>', `S3: an access key id with list and read rights (default: $${ENV_ACCESS_KEY_ID})`)
    .option('--secret-access-key-file <file>', `S3: a file holding only the secret access key (default: $${ENV_SECRET_FILE})`)
    .option('--target-path <dir>', 'a disk target instead: its folder (the USB drive or share StudioVault backed up to)')
    .addOption(
      new Option('--concurrency <n>', `files fetched at once (1 to ${MAX_CONCURRENCY})`)
        .argParser(option(positiveInt(MAX_CONCURRENCY)))
        .default(DEFAULT_CONCURRENCY),
    );
}

// ---- the target --------------------------------------------------------------------------------

async function openBucket(ctx: Context, opts: FromTargetOptions): Promise<Bucket> {
  const s3Flags = (['endpoint', 'region', 'bucket', 'prefix', 'pathStyle', 'accessKeyId', 'secretAccessKeyFile'] as const).filter(
    (k) => opts[k] !== undefined,
  );
  if (opts.targetPath !== undefined && s3Flags.length) {
    throw usageError(
      `give one target: a bucket (--bucket …) or a disk target (--target-path DIR), not both (--target-path with ${s3Flags
        .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
        .join(', ')})`,
    );
  }
  if (opts.targetPath !== undefined) {
    if (!opts.targetPath.trim()) throw usageError('--target-path must not be blank');
    const disk = new DiskBucket(resolve(opts.targetPath));
    try {
      await disk.check();
    } catch (err) {
      throw targetFailure(err);
    }
    return disk;
  }
  if (!s3Flags.length) {
    throw usageError(
      'name the target to restore from: --endpoint URL --region R --bucket B [--prefix P] --access-key-id ID --secret-access-key-file FILE ' +
        'for an S3 bucket, or --target-path DIR for a disk target',
    );
  }
  const region = opts.region?.trim();
  const bucket = opts.bucket?.trim();
  if (!bucket) throw usageError('--bucket is missing: the bucket the studio backs up to');
  if (!region) throw usageError('--region is missing, e.g. --region eu-central-003 (us-east-1 for MinIO and Ceph RGW)');
  const accessKeyId = (opts.accessKeyId ?? ctx.env[ENV_ACCESS_KEY_ID])?.trim();
  if (!accessKeyId) throw usageError(`the access key id is missing: --access-key-id ID (or $${ENV_ACCESS_KEY_ID})`);
  const secretFile = opts.secretAccessKeyFile ?? ctx.env[ENV_SECRET_FILE]?.trim();
  if (!secretFile) {
    throw usageError(
      `the secret access key is missing: --secret-access-key-file FILE, a file holding only the key (or $${ENV_SECRET_FILE})`,
    );
  }
  const secretAccessKey = await readSecretFile(secretFile, (m) => ctx.out.warn(m));
  let prefix = (opts.prefix ?? '').trim().replace(/^\/+/, '');
  if (prefix.split('/').some((s) => s === '..' || s === '.') || prefix.includes('\0')) {
    throw usageError('--prefix must not contain "..", "." or NUL');
  }
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  // Loaded here, not at start: the SDK is most of the bundle and no other command needs it.
  const { S3Bucket } = await import('../restore/s3-bucket');
  return new S3Bucket({
    endpoint: opts.endpoint,
    region,
    bucket,
    prefix,
    forcePathStyle: opts.pathStyle ?? opts.endpoint !== undefined,
    accessKeyId,
    secretAccessKey,
    maxSockets: Math.max(8, opts.concurrency * 2),
  });
}

/** A target that cannot be read at all: exit 3 when nothing answers, else 1. */
function targetFailure(err: unknown): unknown {
  if (!(err instanceof BucketError)) return err;
  switch (err.kind) {
    case 'unreachable':
      return new CliError('TARGET_UNREACHABLE', err.message, ExitCode.Unreachable);
    case 'denied':
      return new CliError(
        'TARGET_ACCESS_DENIED',
        `${err.message} (check the access key id and the secret key file; a restore needs to list and read the bucket and its versions)`,
        ExitCode.Failed,
      );
    case 'no-bucket':
      return new CliError('TARGET_NOT_FOUND', err.message, ExitCode.Failed);
    default:
      return new CliError('TARGET_ERROR', err.message, ExitCode.Failed);
  }
}

async function readAll(body: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) {
      body.destroy();
      throw new CliError('MANIFEST_INVALID', `${what} is larger than ${formatBytes(max)}: not a StudioVault manifest`, ExitCode.Failed);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// ---- what the target holds -----------------------------------------------------------------------

interface CardVersions {
  label: string;
  /** Every version (and delete marker) of its manifest, in any year folder. */
  versions: ObjectVersion[];
}

const newestFirst = (a: ObjectVersion, b: ObjectVersion) =>
  b.lastModified.getTime() - a.lastModified.getTime() || Number(b.isLatest) - Number(a.isLatest);

async function yearFolders(bucket: Bucket): Promise<string[]> {
  return (await bucket.listFolders(CARDS_PREFIX)).filter((y) => /^\d{4}$/.test(y)).sort();
}

/** Manifest versions under cards/<year>/[<slug>/], grouped by project and card label. */
async function manifestVersions(bucket: Bucket, slug?: string): Promise<Map<string, Map<string, CardVersions>>> {
  const projects = new Map<string, Map<string, CardVersions>>();
  for (const year of await yearFolders(bucket)) {
    for (const v of await bucket.listVersions(`${CARDS_PREFIX}${year}/${slug ? `${slug}/` : ''}`)) {
      const m = parseManifestKey(v.key);
      if (!m || (slug && m.projectSlug !== slug)) continue;
      const cards = projects.get(m.projectSlug) ?? new Map<string, CardVersions>();
      projects.set(m.projectSlug, cards);
      const card = cards.get(m.cardLabel) ?? { label: m.cardLabel, versions: [] };
      cards.set(m.cardLabel, card);
      card.versions.push(v);
    }
  }
  for (const cards of projects.values()) for (const c of cards.values()) c.versions.sort(newestFirst);
  return projects;
}

async function listTarget(ctx: Context, bucket: Bucket): Promise<void> {
  const projects = await manifestVersions(bucket);
  const catalog = (await bucket.listVersions('catalog/')).filter((v) => v.key === CATALOG_EXPORT_KEY && !v.deleteMarker).sort(newestFirst);
  const top = projects.size === 0 ? await bucket.rootFolders() : [];
  const doc = {
    target: bucket.summary,
    projects: [...projects.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([slug, cards]) => ({
        slug,
        cards: [...cards.values()]
          .sort((a, b) => (a.label < b.label ? -1 : 1))
          .map((c) => {
            const real = c.versions.filter((v) => !v.deleteMarker);
            return {
              label: c.label,
              manifest: real[0]?.key ?? c.versions[0].key,
              lastBackup: real[0]?.lastModified.toISOString() ?? null,
              firstBackup: real[real.length - 1]?.lastModified.toISOString() ?? null,
              manifestVersions: real.length,
              deleteMarker: c.versions[0].deleteMarker,
            };
          }),
      })),
    catalogExport: catalog.length
      ? { key: CATALOG_EXPORT_KEY, lastModified: catalog[0].lastModified.toISOString(), versions: catalog.length, size: catalog[0].size }
      : null,
    ...(projects.size === 0 ? { topFolders: top } : {}),
  };
  ctx.out.result(doc, () => {
    const o = (t = '') => ctx.out.line(t);
    if (doc.projects.length === 0) {
      o(`No StudioVault card manifests in ${bucket.description} (nothing under ${CARDS_PREFIX}).`);
      if (top.length) o(`Folders there: ${top.map((f) => `${clean(f)}/`).join(', ')}: is one of them the target's prefix (--prefix)?`);
      return;
    }
    o(`Projects in ${bucket.description}:`);
    o();
    type Row = (typeof doc.projects)[number];
    const columns: Column<Row>[] = [
      { header: 'PROJECT', value: (p) => p.slug },
      { header: 'CARDS', value: (p) => String(p.cards.length) },
      { header: 'FIRST BACKUP', value: (p) => formatWhen(minIso(p.cards.map((c) => c.firstBackup))) },
      { header: 'LAST BACKUP', value: (p) => formatWhen(maxIso(p.cards.map((c) => c.lastBackup))) },
      { header: 'CARD LABELS', value: (p) => p.cards.map((c) => c.label).join(', '), max: 60 },
    ];
    o(table(doc.projects, columns));
    o();
    if (doc.catalogExport) {
      o(
        `Catalog export: ${CATALOG_EXPORT_KEY}, ${formatWhen(doc.catalogExport.lastModified)} (${doc.catalogExport.versions} version(s) kept)`,
      );
    } else o('Catalog export: none yet (it is written by the nightly run)');
    o('Restore a project with: studiovault restore --from-target <these target options> PROJECT --to DIR [--card LABEL] [--at DATE]');
  });
}

const minIso = (xs: (string | null)[]) => xs.filter((x): x is string => !!x).sort()[0] ?? null;
const maxIso = (xs: (string | null)[]) =>
  xs
    .filter((x): x is string => !!x)
    .sort()
    .reverse()[0] ?? null;

// ---- manifests ----------------------------------------------------------------------------------

interface ChosenCard {
  label: string;
  version: ObjectVersion;
  /** A delete marker newer than the chosen version (someone "deleted" the manifest). */
  hiddenBy?: ObjectVersion;
  manifest?: CardManifest;
}

function isSha256(x: unknown): x is string {
  return typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
}

/** Why one file entry of a manifest cannot be restored, or null. */
function badEntry(f: CardManifestFile): string | null {
  if (!f || typeof f !== 'object') return 'not an object';
  const path = unsafeRelativePath(f.path);
  if (path) return `its path ${JSON.stringify(String(f.path).slice(0, 200))} is not a safe relative path (${path})`;
  if (!Number.isSafeInteger(f.size) || f.size < 0) return `its size ${JSON.stringify(f.size)} is not a byte count`;
  if (!isSha256(f.sha256)) return 'it has no SHA-256';
  if (!Number.isSafeInteger(f.version) || f.version < 1) return `its version ${JSON.stringify(f.version)} is not 1 or more`;
  if (typeof f.object !== 'string' || unsafeRelativePath(f.object)) return 'it names no valid object key';
  if (f.versionId !== undefined && f.versionId !== null && typeof f.versionId !== 'string') return 'its versionId is not a string';
  return null;
}

async function readManifest(bucket: Bucket, card: ChosenCard): Promise<CardManifest> {
  const v = card.version;
  const what = `the manifest of card ${card.label} (${v.key}, version ${v.versionId})`;
  const obj = await bucket.get(v.key, v.versionId).catch((err: unknown) => Promise.reject(targetFailure(err)));
  const bytes = await readAll(obj.body, MANIFEST_MAX_BYTES, what);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const hint = `restore the other cards with --card, or an earlier backup with --at`;
  if (obj.sha256 && obj.sha256 !== sha) {
    throw new CliError(
      'MANIFEST_DAMAGED',
      `${what} does not match the SHA-256 stored with it (stored ${obj.sha256}, read ${sha}); ${hint}`,
      ExitCode.Failed,
    );
  }
  let doc: CardManifest;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as CardManifest;
  } catch {
    throw new CliError('MANIFEST_INVALID', `${what} is not JSON; ${hint}`, ExitCode.Failed);
  }
  if (doc?.format !== CARD_MANIFEST_FORMAT || !Array.isArray(doc.files)) {
    throw new CliError('MANIFEST_INVALID', `${what} is not a StudioVault card manifest; ${hint}`, ExitCode.Failed);
  }
  if (doc.formatVersion !== CARD_MANIFEST_FORMAT_VERSION) {
    throw new CliError(
      'MANIFEST_UNSUPPORTED',
      `${what} has format version ${JSON.stringify(doc.formatVersion)}; this CLI reads version ${CARD_MANIFEST_FORMAT_VERSION}: use the CLI of the same StudioVault release`,
      ExitCode.Failed,
    );
  }
  return doc;
}

// ---- the restore ------------------------------------------------------------------------------

type FailReason = 'exists' | 'mismatch' | 'missing' | 'read' | 'write' | 'invalid' | 'conflict' | 'cancelled' | 'not-attempted';

interface PlannedFile {
  card: string;
  /** The path on the card (manifest). */
  path: string;
  /** Relative to DIR: <label>/<path byte for byte as the card gave it, ~vN for later versions>. */
  rel: string;
  dest: string;
  entry: CardManifestFile;
}

interface FileError {
  card: string;
  path: string;
  destination: string;
  reason: FailReason;
  message: string;
  expectedSha256?: string;
  actualSha256?: string | null;
}

const READ_SYSCALLS = new Set(['read', 'connect', 'getaddrinfo']);

/** Whether a failure came from the destination (a write, a link…) rather than from the target. */
function isWriteError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return !(err instanceof BucketError) && typeof e?.syscall === 'string' && !READ_SYSCALLS.has(e.syscall);
}

/** Destination failures after which every further file fails too. */
const FATAL_WRITE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const what: Record<string, string> = {
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
  return e?.code ? `${what[e.code] ?? e.code}${e.syscall ? ` (${e.syscall})` : ''}` : String((err as Error)?.message ?? err);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function restoreFromTarget(ctx: Context, opts: FromTargetOptions, slug?: string): Promise<void> {
  if (!slug) {
    const extra = (['to', 'card', 'path', 'at'] as const).filter((k) => opts[k] !== undefined);
    if (extra.length) {
      throw usageError(
        `${extra.map((k) => `--${k}`).join(', ')} ${extra.length > 1 ? 'need' : 'needs'} a project: studiovault restore --from-target … PROJECT --to DIR ` +
          '(without a project, restore --from-target lists the projects the target holds)',
      );
    }
  } else if (!opts.to?.trim()) {
    throw usageError('--to DIR is missing: the folder to restore into (an empty one; existing files are never overwritten)');
  }
  const bucket = await openBucket(ctx, opts);
  try {
    if (!slug) await listTarget(ctx, bucket).catch((err: unknown) => Promise.reject(targetFailure(err)));
    else await restoreProject(ctx, bucket, opts, slug);
  } finally {
    bucket.close();
  }
}

async function restoreProject(ctx: Context, bucket: Bucket, opts: FromTargetOptions, slug: string): Promise<void> {
  const to = resolve(opts.to!.trim());
  const at = opts.at;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    if (!ctx.out.json || process.stderr.isTTY) ctx.out.warn(clean(m));
  };

  // ---- which manifests ---------------------------------------------------------------------------
  let projects: Map<string, Map<string, CardVersions>>;
  try {
    projects = await manifestVersions(bucket, slug);
  } catch (err) {
    throw targetFailure(err);
  }
  const all = projects.get(slug);
  if (!all || all.size === 0) {
    const others = await manifestVersions(bucket).then(
      (p) => [...p.keys()].sort(),
      () => [] as string[],
    );
    throw new CliError(
      'PROJECT_NOT_FOUND',
      `${bucket.description} holds no card manifest of project "${slug}"` +
        (others.length
          ? ` (projects there: ${others.slice(0, 20).join(', ')}${others.length > 20 ? ', …' : ''})`
          : ' (it holds no card manifests at all: is the prefix right?)'),
      ExitCode.Failed,
    );
  }
  let cards = [...all.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
  if (opts.card?.length) {
    const wanted = opts.card.map((c) => c.normalize('NFC'));
    const missing = wanted.filter((w) => !cards.some((c) => c.label.normalize('NFC') === w));
    if (missing.length) {
      throw new CliError(
        'CARD_NOT_FOUND',
        `project ${slug} has no card ${missing.map((m) => `"${m}"`).join(', ')} in ${bucket.description} (cards: ${cards
          .map((c) => c.label)
          .join(', ')})`,
        ExitCode.Failed,
      );
    }
    cards = cards.filter((c) => wanted.includes(c.label.normalize('NFC')));
  }

  const chosen: ChosenCard[] = [];
  const notYet: string[] = [];
  for (const c of cards) {
    const candidates = c.versions.filter((v) => !v.deleteMarker && (!at || v.lastModified.getTime() <= at.at.getTime()));
    if (!candidates.length) {
      notYet.push(c.label);
      continue;
    }
    const version = candidates[0];
    const hiddenBy = c.versions.find(
      (v) => v.deleteMarker && v.lastModified > version.lastModified && (!at || v.lastModified.getTime() <= at.at.getTime()),
    );
    chosen.push({ label: c.label, version, hiddenBy });
  }
  if (!chosen.length) {
    const first = cards
      .flatMap((c) => c.versions.filter((v) => !v.deleteMarker))
      .map((v) => v.lastModified)
      .sort((a, b) => a.getTime() - b.getTime())[0];
    const which = opts.card?.length ? `card ${opts.card.join(', ')} of ${slug}` : slug;
    throw new CliError(
      'NO_BACKUP_AT',
      `no backup of ${which} existed at ${at ? `${at.raw} (${at.at.toISOString()})` : 'any time'}` +
        (first ? `: its first backup is from ${first.toISOString()}` : ''),
      ExitCode.Failed,
    );
  }
  if (notYet.length && at) warn(`card(s) ${notYet.join(', ')} of ${slug} had no backup yet at ${at.raw}: not restored`);
  for (const c of chosen) {
    if (c.hiddenBy) {
      warn(
        `the manifest of card ${c.label} was deleted on the target at ${c.hiddenBy.lastModified.toISOString()} (a delete marker); ` +
          `restoring its last version from ${c.version.lastModified.toISOString()}`,
      );
    }
  }
  for (const c of chosen) c.manifest = await readManifest(bucket, c);

  // ---- which files ---------------------------------------------------------------------------------
  const globs = (opts.path ?? []).map((g) => g.normalize('NFC'));
  const matchers = globs.map(compileRestorePattern); // the server's rule: any case, a name at any depth, a folder brings its files
  const plan: PlannedFile[] = [];
  const errors: FileError[] = [];
  let invalid = 0;
  for (const c of chosen) {
    const m = c.manifest!;
    if (m.project?.slug && m.project.slug !== slug) warn(`the manifest ${c.version.key} names project ${m.project.slug}, not ${slug}`);
    if (m.card?.label && m.card.label !== c.label) warn(`the manifest ${c.version.key} names card ${m.card.label}, not ${c.label}`);
    const label = c.label.normalize('NFC');
    for (const entry of m.files) {
      const problem = badEntry(entry);
      const pathNfc = typeof entry?.path === 'string' ? entry.path.normalize('NFC') : String(entry?.path);
      if (!problem && matchers.length && !restorePatternsSelect(matchers, pathNfc)) continue;
      if (problem) {
        invalid++;
        errors.push({
          card: c.label,
          path: pathNfc,
          destination: '',
          reason: 'invalid',
          message: `the manifest entry cannot be restored: ${problem}`,
        });
        continue;
      }
      // The name as the card gave it (macOS: NFD), as on the NAS's volumes and in the card's ASC MHL.
      const rel = `${label}/${versionedCardPath(entry.path, entry.version)}`;
      plan.push({ card: c.label, path: entry.path, rel, dest: join(to, ...rel.split('/')), entry });
    }
  }
  if (plan.length === 0 && invalid === 0) {
    const scope = `${slug} (card(s) ${chosen.map((c) => c.label).join(', ')})`;
    throw new CliError(
      'NOTHING_TO_RESTORE',
      globs.length ? `no file of ${scope} matches --path ${globs.join(', ')}` : `the manifests of ${scope} list no files`,
      ExitCode.Failed,
    );
  }

  // ---- the destination -------------------------------------------------------------------------------
  const there = await stat(to).catch(() => null);
  if (there && !there.isDirectory()) throw usageError(`--to ${opts.to}: ${to} is a file, not a folder`);
  const base = there ? to : await nearestExisting(to);
  const baseStat = await stat(base).catch(() => null);
  if (!baseStat?.isDirectory()) {
    throw new CliError('DESTINATION_NOT_WRITABLE', `cannot restore into ${to}: ${base} is not a folder`, ExitCode.Failed);
  }
  try {
    await probeWritable(base);
  } catch (err) {
    throw new CliError(
      'DESTINATION_NOT_WRITABLE',
      `cannot write to ${base}${base === to ? '' : ` (to create ${to})`}: ${describeFsError(err)}; nothing was restored`,
      ExitCode.Failed,
    );
  }

  // Files already at their destination are refused (never overwritten); two entries with one destination too.
  const taken = new Set<string>();
  const todo: PlannedFile[] = [];
  for (const f of plan) {
    // Compared in NFC: two names that differ only in Unicode form are one name to a Mac.
    const key = f.dest.normalize('NFC');
    if (taken.has(key)) {
      errors.push({
        card: f.card,
        path: f.path,
        destination: f.dest,
        reason: 'conflict',
        message: `another file of the manifest is restored to ${f.rel}; not restored`,
      });
      continue;
    }
    taken.add(key);
    if (there && (await lstat(f.dest).catch(() => null))) {
      errors.push(existsError(f));
      continue;
    }
    todo.push(f);
  }
  const { free, blockSize } = await freeSpace(base);
  const needed = todo.reduce((a, f) => a + Math.ceil(f.entry.size / blockSize) * blockSize, 0);
  if (needed > free) {
    throw new CliError(
      'NOT_ENOUGH_SPACE',
      `not enough space to restore into ${to}: ${todo.length} file(s) need ${formatBytes(needed)} (${needed} bytes), ` +
        `the disk has ${formatBytes(free)} (${free} bytes) free: ${needed - free} bytes missing; nothing was restored`,
      ExitCode.Failed,
    );
  }
  await mkdir(to, { recursive: true });

  // ---- fetch, verify, write --------------------------------------------------------------------------
  const tty = Boolean(process.stderr.isTTY);
  const progress = new Progress({ stream: process.stderr, tty, json: ctx.out.json, label: slug });
  const say = (text: string) => {
    if (!ctx.out.json || tty) progress.log(text);
  };
  if (!ctx.out.json || tty) {
    say(
      `Restoring ${todo.length} file(s), ${formatBytes(todo.reduce((a, f) => a + f.entry.size, 0))}, of project ${slug} ` +
        `(card(s) ${chosen.map((c) => c.label).join(', ')}${at ? `, as of ${at.raw}` : ''}) from ${bucket.description} into ${to}`,
    );
  }
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let fatal: string | undefined;
  let restored = 0;
  let restoredBytes = 0;
  let otherVersion = 0;
  const started = Date.now();

  const restoreOne = async (f: PlannedFile): Promise<void> => {
    const fp = progress.file(f.rel, f.entry.size);
    fp.update(0);
    let usedOtherVersion = false;
    const source: Source = async () => {
      const named = f.entry.versionId && f.entry.versionId !== 'null' ? f.entry.versionId : undefined;
      let obj;
      try {
        obj = await bucket.get(f.entry.object, usedOtherVersion ? undefined : named, abort.signal);
      } catch (err) {
        if (!(err instanceof BucketError) || err.kind !== 'not-found' || !named || usedOtherVersion) throw err;
        // A copy of the bucket (rclone, a replica) has other version ids: the content key names
        // the bytes, and their SHA-256 is checked below, so its current version is as good.
        obj = await bucket.get(f.entry.object, undefined, abort.signal);
        usedOtherVersion = true;
        if (otherVersion++ === 0) {
          say(
            `the target does not have the object versions the manifest names (${f.entry.object} version ${named}): ` +
              'a copy of the bucket? Using the current versions of such objects; every file is still checked by its SHA-256',
          );
        }
      }
      const body = obj.body;
      const onAbort = () => body.destroy(new Error('cancelled'));
      abort.signal.addEventListener('abort', onAbort, { once: true });
      return {
        body: body as AsyncIterable<Uint8Array>,
        destroy: () => {
          abort.signal.removeEventListener('abort', onAbort);
          body.destroy();
        },
      };
    };
    let mismatches = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await writeVerified(f.dest, f.entry, source, (bytes) => fp.update(bytes));
          if (outcome.status === 'restored') {
            restored++;
            restoredBytes += outcome.bytes;
            return;
          }
          if (outcome.status === 'exists') {
            errors.push(existsError(f));
            return;
          }
          mismatches++;
          if (mismatches < MISMATCH_ATTEMPTS && !abort.signal.aborted) {
            say(`${clean(f.rel)}: the bytes read do not match the manifest's SHA-256; reading it again`);
            fp.update(0);
            continue;
          }
          const got =
            outcome.sha256 === null
              ? `more than ${f.entry.size} bytes`
              : `${outcome.sha256}${outcome.bytes !== f.entry.size ? ` (${outcome.bytes} bytes, expected ${f.entry.size})` : ''}`;
          errors.push({
            card: f.card,
            path: f.path,
            destination: f.dest,
            reason: 'mismatch',
            message:
              `the content on the target does not match the manifest: SHA-256 expected ${f.entry.sha256}, got ${got}` +
              ` (${f.entry.object}${usedOtherVersion ? ', current version' : f.entry.versionId ? `, version ${f.entry.versionId}` : ''}); not written`,
            expectedSha256: f.entry.sha256,
            actualSha256: outcome.sha256,
          });
          return;
        } catch (err) {
          if (abort.signal.aborted) {
            errors.push({ card: f.card, path: f.path, destination: f.dest, reason: 'cancelled', message: 'interrupted' });
            return;
          }
          if (isWriteError(err)) {
            const code = (err as NodeJS.ErrnoException).code ?? '';
            if (FATAL_WRITE_CODES.has(code)) fatal ??= `${describeFsError(err)} in ${to}`;
            errors.push({
              card: f.card,
              path: f.path,
              destination: f.dest,
              reason: 'write',
              message: `cannot write ${f.dest}: ${describeFsError(err)}`,
            });
            return;
          }
          const be = err instanceof BucketError ? err : null;
          if (be && be.kind === 'not-found') {
            errors.push({
              card: f.card,
              path: f.path,
              destination: f.dest,
              reason: 'missing',
              message: `${be.message} (the manifest names ${f.entry.object}${f.entry.versionId ? ` version ${f.entry.versionId}` : ''})`,
            });
            return;
          }
          const retryable = !be || be.kind === 'transient' || be.kind === 'unreachable';
          const message = be ? be.message : `reading ${f.entry.object}: ${(err as Error)?.message ?? String(err)}`;
          if (retryable && attempt < MAX_ATTEMPTS) {
            say(`${clean(f.rel)}: ${clean(message)}; trying again in ${attempt} s`);
            fp.update(0);
            await sleep(attempt * 1000);
            continue;
          }
          errors.push({ card: f.card, path: f.path, destination: f.dest, reason: 'read', message });
          return;
        }
      }
    } finally {
      fp.end();
    }
  };

  progress.start(
    todo.reduce((a, f) => a + f.entry.size, 0),
    todo.length,
  );
  let next = 0;
  try {
    const worker = async () => {
      while (!fatal && !abort.signal.aborted && next < todo.length) await restoreOne(todo[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, todo.length) }, worker));
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  for (const f of todo.slice(next)) {
    errors.push(
      abort.signal.aborted
        ? { card: f.card, path: f.path, destination: f.dest, reason: 'cancelled', message: 'interrupted before this file' }
        : { card: f.card, path: f.path, destination: f.dest, reason: 'not-attempted', message: `not tried: ${fatal}` },
    );
  }
  const seconds = (Date.now() - started) / 1000;

  // ---- the summary -----------------------------------------------------------------------------------
  const order = new Map(plan.map((f, i) => [f.dest, i]));
  errors.sort((a, b) => (order.get(a.destination) ?? -1) - (order.get(b.destination) ?? -1));
  const skipped = errors.filter((e) => e.reason === 'exists').length;
  const counts = {
    files: plan.length + invalid,
    bytes: plan.reduce((a, f) => a + f.entry.size, 0),
    restored,
    verified: restored,
    failed: errors.length,
    skipped,
  };
  const document = {
    project: slug,
    target: bucket.summary,
    to,
    at: at ? { given: at.raw, time: at.at.toISOString() } : null,
    cards: chosen.map((c) => ({
      label: c.label,
      manifest: { key: c.version.key, versionId: c.version.versionId, lastModified: c.version.lastModified.toISOString() },
      files: plan.filter((f) => f.card === c.label).length,
    })),
    ...counts,
    restoredBytes,
    seconds: Number(seconds.toFixed(3)),
    bytesPerSecond: seconds > 0 ? Math.round(restoredBytes / seconds) : null,
    otherVersion,
    errors,
    warnings,
  };
  ctx.out.result(document, () => {
    const o = (t = '') => ctx.out.line(t);
    o(`Project ${slug} from ${bucket.description}${at ? `, as of ${at.raw}` : ''}, into ${to}`);
    for (const c of document.cards) o(`  card ${clean(c.label)}: ${c.files} file(s), manifest of ${formatWhen(c.manifest.lastModified)}`);
    o(
      `Restored ${restored} of ${counts.files} file(s), ${formatBytes(restoredBytes)} in ${formatDuration(seconds)} ` +
        `(${formatRate(seconds > 0 ? restoredBytes / seconds : 0)})`,
    );
    o(`Verified ${restored} (SHA-256 of the bytes written matches the manifest)`);
    if (otherVersion) o(`${otherVersion} file(s) read from the current version of their object, not the one the manifest names`);
    for (const e of errors.slice(0, ERRORS_SHOWN)) {
      o(`FAILED ${clean(e.destination ? e.destination.slice(to.length + 1) : `${e.card}/${e.path}`)}: ${clean(e.message)} (${e.reason})`);
    }
    if (errors.length > ERRORS_SHOWN) o(`… and ${errors.length - ERRORS_SHOWN} more (--json lists them all)`);
    o(`Failed ${errors.length}${skipped ? ` (${skipped} of them already existed at the destination and were left as they are)` : ''}`);
    o(
      errors.length === 0
        ? `RESTORE COMPLETE: ${restored} file(s), every one verified`
        : `RESTORE INCOMPLETE: ${errors.length} of ${counts.files} file(s) not restored`,
    );
  });
  if (abort.signal.aborted) throw new SilentExit(ExitCode.Cancelled);
  if (errors.length) throw new SilentExit(ExitCode.Failed);
}

function existsError(f: PlannedFile): FileError {
  return {
    card: f.card,
    path: f.path,
    destination: f.dest,
    reason: 'exists',
    message: 'already exists at the destination; it was not overwritten (restore into an empty folder, or move it away)',
  };
}
