/**
 * Where things live on a target, so that a person (or `studiovault restore --from-target`)
 * can restore from the bucket alone:
 *
 *   README.txt                                         what this is and how to restore
 *   content/sha256/<aa>/<bb>/<sha256>                  a file's bytes, stored once per content
 *   cards/<year>/<project-slug>/<card-label>/manifest.json   the card: every path → content key, hashes, lock
 *   cards/<year>/<project-slug>/<card-label>/ascmhl/…        the card's ASC MHL history, as on the volumes
 *   catalog/studiovault-catalog.json.gz                the nightly catalog export (one version per night)
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

export const CATALOG_EXPORT_KEY = 'catalog/studiovault-catalog.json.gz';
export const README_KEY = 'README.txt';

export const TARGET_README = `StudioVault off-site backup
===========================

This bucket (or folder) holds a studio's photo and video files, restorable without StudioVault's
database:

  cards/<year>/<project>/<card>/manifest.json   one JSON per card: every file's path on the card,
                                                 size, SHA-256, xxh64, capture time, and the key of
                                                 its bytes (content/sha256/...)
  cards/<year>/<project>/<card>/ascmhl/          the card's ASC MHL history (ascmhl_chain.xml and
                                                 its generations), as written on the studio's volumes
  content/sha256/<aa>/<bb>/<sha256>              the bytes of one file; identical files are stored once
  catalog/studiovault-catalog.json.gz            the whole catalog, exported every night (versions kept)

To restore a card by hand: read its manifest.json, fetch each file's "object" key and save it
under its "path"; check the SHA-256. \`studiovault restore --from-target\` does this for you.
Objects are versioned and held by S3 Object Lock until their retain-until date.
`;
