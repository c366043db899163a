/**
 * Where things live on an off-site target, and what a card manifest holds: shared by the server
 * that writes the bucket (libs/backup) and the CLI that restores from it without the server
 * (`studiovault restore --from-target`). Pure: no I/O.
 *
 *   README.txt                                                what this is and how to restore
 *   content/sha256/<aa>/<bb>/<sha256>                         a file's bytes, stored once per content
 *   cards/<year>/<project-slug>/<card-label>/manifest.json    the card: every path → content key, hashes, lock
 *   cards/<year>/<project-slug>/<card-label>/ascmhl/…         the card's ASC MHL history, as on the volumes
 *   catalog/studiovault-catalog.json.gz                       the nightly catalog export (one version per night)
 *
 * Keys are relative to the target's prefix ("studio/" + key in the bucket).
 */

export function contentKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
  return `content/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

export function cardPrefix(year: number, projectSlug: string, cardLabel: string): string {
  return `cards/${year}/${projectSlug}/${cardLabel}/`;
}

export function manifestKey(year: number, projectSlug: string, cardLabel: string): string {
  return `${cardPrefix(year, projectSlug, cardLabel)}manifest.json`;
}

export function mhlKey(year: number, projectSlug: string, cardLabel: string, fileName: string): string {
  return `${cardPrefix(year, projectSlug, cardLabel)}ascmhl/${fileName}`;
}

export const CARDS_PREFIX = 'cards/';
export const CATALOG_EXPORT_KEY = 'catalog/studiovault-catalog.json.gz';
export const README_KEY = 'README.txt';
export const MANIFEST_NAME = 'manifest.json';

/** The year, project and card a manifest key names; null for any other key (ASC MHL files, …). */
export function parseManifestKey(key: string): { year: number; projectSlug: string; cardLabel: string } | null {
  const m = /^cards\/(\d{4})\/([^/]+)\/([^/]+)\/manifest\.json$/.exec(key);
  return m ? { year: Number(m[1]), projectSlug: m[2], cardLabel: m[3] } : null;
}

export const CARD_MANIFEST_FORMAT = 'studiovault.card-manifest';
export const CARD_MANIFEST_FORMAT_VERSION = 1;
export const CATALOG_EXPORT_FORMAT = 'studiovault.catalog-export';

/** One file of a card, in cards/…/manifest.json (JSON: dates are ISO strings). */
export interface CardManifestFile {
  /** The path on the card, as the card gave it (macOS gives NFD). */
  path: string;
  /** 1, or 2, 3… for other content that came later under the same path (stored as NAME~v2.EXT). */
  version: number;
  size: number;
  sha256: string;
  xxh64: string | null;
  captureTime: string | null;
  retentionClass: string;
  /** The content key of its bytes (without the target's prefix). */
  object: string;
  /** The version of `object` this manifest means ("null" on a bucket without versioning). */
  versionId: string;
  lock: { mode: string | null; retainUntil: string } | null;
  /** The same bytes as a file of another card (the camera's second slot): stored once. */
  redundantSource?: boolean;
}

export interface CardManifest {
  format: typeof CARD_MANIFEST_FORMAT;
  formatVersion: number;
  exportedAt: string;
  project: { id: string; slug: string; name: string; type: string; shootDate: string | null };
  card: {
    id: string;
    label: string;
    year: number;
    /** `<year>/<slug>/<label>`: the card folder on the studio's volumes. */
    folder: string;
    camera: { make: string | null; model: string | null; serial: string | null };
    verifiedAt: string | null;
    redundantOfCardId: string | null;
  };
  files: CardManifestFile[];
  /** Keys of the card's ASC MHL files (latest versions; no version ids). */
  ascmhl: string[];
}

/**
 * The name a file has in the card folder (as on the studio's volumes): its path, or for
 * version 2 and later `NAME~vN.EXT` beside it. Same rule as the server's versionedPath.
 */
export function versionedCardPath(path: string, version: number): string {
  if (version <= 1) return path;
  const slash = path.lastIndexOf('/');
  const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${dir}${base}~v${version}${ext}`;
}

/**
 * Why a relative path from a manifest must not be written under a restore folder (it could
 * leave it, or is not a plain file path), or null when it is fine.
 */
export function unsafeRelativePath(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'empty';
  if (path.includes('\0')) return 'contains NUL';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return 'has an empty, "." or ".." segment';
  }
  return null;
}
