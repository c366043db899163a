/**
 * Directory hashes of ASC MHL: for every folder (and the card folder itself, the "root hash"),
 * in each hash format, a content hash and a structure hash.
 *
 * The rules, as the ASC reference implementation computes them (and reproduced against its
 * published example values, see directory-hash.spec.ts):
 *
 * - hash of a hash list: take the hash values (strings as written in the MHL file), sort them as
 *   strings, concatenate the digest bytes behind each (hex decoded; for c4 the 64-byte SHA-512),
 *   and hash that concatenation. An empty list gives the hash of zero bytes.
 * - content hash of a folder: hash of the hash list of its direct children's content hashes
 *   (a file's hash; a subfolder's content hash). No file names, so a renamed file or folder
 *   keeps the content hash.
 * - structure hash of a folder: for each direct child, hash(UTF-8 bytes of its name + digest
 *   bytes of the child's hash) where the child's hash is a file's content hash or a subfolder's
 *   structure hash; then the hash of the hash list of those. Names are taken exactly as recorded
 *   (no Unicode normalization), only the last path segment.
 * - duplicates are kept (two identical files contribute twice).
 */
import { HashFormat, HashSet, getHashAlgorithm, hashValueToBytes } from './hash-formats';
import { MhlError } from './errors';

export interface DirectoryHashes {
  content: string;
  structure: string;
}

export type DirectoryHashesByFormat = Partial<Record<HashFormat, DirectoryHashes>>;

export interface DirectoryHashInputFile {
  path: string;
  hashes: HashSet;
}

export interface DirectoryTreeHashes {
  /** The card folder's own hashes (`<roothash>`). */
  root: DirectoryHashesByFormat;
  /** Every folder below the card folder, by its relative path as given. */
  directories: Map<string, DirectoryHashesByFormat>;
}

/** Hash of a list of hash values (see the rules above). */
export function hashOfHashList(format: HashFormat, values: readonly string[]): string {
  const sorted = [...values].sort();
  return getHashAlgorithm(format).digest(Buffer.concat(sorted.map((v) => hashValueToBytes(format, v))));
}

/** One child's contribution to its folder's structure hash. */
export function structureElementHash(format: HashFormat, name: string, childHash: string): string {
  return getHashAlgorithm(format).digest(Buffer.concat([Buffer.from(name, 'utf8'), hashValueToBytes(format, childHash)]));
}

interface Node {
  dirs: Map<string, Node>;
  files: Map<string, HashSet>;
}

const newNode = (): Node => ({ dirs: new Map(), files: new Map() });

/**
 * Directory hashes of a card folder from its files' hashes, in each of `formats` (every file must
 * have a hash in each). `extraDirectories` adds folders that hold no files (empty folders).
 */
export function computeDirectoryHashes(
  files: readonly DirectoryHashInputFile[],
  formats: readonly HashFormat[],
  extraDirectories: readonly string[] = [],
): DirectoryTreeHashes {
  const root = newNode();
  const dirNode = (segments: string[]): Node => {
    let node = root;
    for (const [i, s] of segments.entries()) {
      if (node.files.has(s)) throw new MhlError('invalid-input', `"${segments.slice(0, i + 1).join('/')}" is both a file and a folder`);
      let next = node.dirs.get(s);
      if (!next) {
        next = newNode();
        node.dirs.set(s, next);
      }
      node = next;
    }
    return node;
  };
  for (const file of files) {
    const segments = file.path.split('/');
    const name = segments.pop() as string;
    const node = dirNode(segments);
    if (node.files.has(name) || node.dirs.has(name))
      throw new MhlError('invalid-input', `"${file.path}" appears twice (or as a file and a folder)`);
    for (const f of formats) {
      if (file.hashes[f] === undefined)
        throw new MhlError('invalid-input', `"${file.path}" has no ${f} hash, needed for the directory hashes`);
    }
    node.files.set(name, file.hashes);
  }
  for (const d of extraDirectories) dirNode(d.split('/'));

  const directories = new Map<string, DirectoryHashesByFormat>();
  const visit = (node: Node, path: string): DirectoryHashesByFormat => {
    const children = [...node.dirs].map(([name, child]) => [name, visit(child, path ? `${path}/${name}` : name)] as const);
    const result: DirectoryHashesByFormat = {};
    for (const f of formats) {
      const content: string[] = [];
      const structure: string[] = [];
      for (const [name, hashes] of node.files) {
        const h = hashes[f] as string;
        content.push(h);
        structure.push(structureElementHash(f, name, h));
      }
      for (const [name, child] of children) {
        const c = child[f] as DirectoryHashes;
        content.push(c.content);
        structure.push(structureElementHash(f, name, c.structure));
      }
      result[f] = { content: hashOfHashList(f, content), structure: hashOfHashList(f, structure) };
    }
    if (path) directories.set(path, result);
    return result;
  };
  const rootHashes = visit(root, '');
  return { root: rootHashes, directories };
}
