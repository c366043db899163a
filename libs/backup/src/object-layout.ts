/**
 * Where things live on a target, so that a person (or `studiovault restore --from-target`)
 * can restore from the bucket alone. The key functions live in @studiovault/contracts
 * (offsite-layout.ts), shared with the CLI that restores without the server.
 */
export { CATALOG_EXPORT_KEY, cardPrefix, contentKey, manifestKey, mhlKey, README_KEY } from '@studiovault/contracts';

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
