/**
 * Writing a new ASC MHL generation into a card folder: the generation file
 * (`ascmhl/NNNN_<card folder>_<YYYY-MM-DD>_<HHMMSS>Z.mhl`) with every file's hashes, the
 * directory hashes of every folder and the root hash, and the updated `ascmhl/ascmhl_chain.xml`
 * that lists each generation with the C4 ID of its bytes.
 *
 * The XML follows ASCMHL.xsd and ASCMHLDirectory.xsd element by element (order, required
 * attributes, one value per hash format, hash formats in XSD order).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { c4IdOf } from './c4';
import { DirectoryHashes, DirectoryHashesByFormat, computeDirectoryHashes } from './directory-hash';
import { ensureDirectoryDurably, writeFileDurably } from './durable-fs';
import { MhlError } from './errors';
import { DEFAULT_HASH_FORMAT, HASH_FORMATS, HashFormat, HashSet, formatsOf, normalizeHashValue } from './hash-formats';
import {
  HASH_ACTIONS,
  HashAction,
  MHL_CHAIN_NAMESPACE,
  MHL_NAMESPACE,
  MhlAuthor,
  MhlChainEntry,
  PROCESS_TYPES,
  ProcessType,
} from './mhl-model';
import { parseChainXml } from './mhl-reader';
import { ASCMHL_FOLDER, CHAIN_FILE_NAME, DEFAULT_IGNORE_PATTERNS, assertCardRelativePath, isIgnored, pathKey } from './paths';
import { XmlAttributes, XmlBuilder, assertXmlCharacters } from './xml';

export const STUDIOVAULT_TOOL_NAME = 'StudioVault';

/** One file of the card folder as this generation records it. */
export interface SealedFile {
  /** Relative to the card folder, as on disk. */
  path: string;
  size: number;
  lastModified?: Date;
  created?: Date;
  /** At least one format. */
  hashes: HashSet;
  /** One action for all formats, or one per format. */
  action: HashAction | Partial<Record<HashFormat, HashAction>>;
  /** When the hashes were computed; default: the generation's creation date. */
  hashDate?: Date;
  /** The file's path in the previous generation, when it was renamed. */
  previousPath?: string;
}

export interface SealedFolder {
  path: string;
  lastModified?: Date;
  created?: Date;
}

export interface GenerationCreator {
  /** Default "StudioVault". */
  toolName?: string;
  toolVersion: string;
  hostname: string;
  creationDate: Date;
  authors?: MhlAuthor[];
  location?: string;
  comment?: string;
}

export interface GenerationInput {
  /** 1 for a first seal; the history's next number otherwise. */
  sequenceNumber: number;
  /** The card folder's name, used in the generation file name. */
  cardFolderName: string;
  creator: GenerationCreator;
  /** Default `transfer` (an ingest copy). */
  process?: ProcessType;
  /** Default: the reference tool's (`.DS_Store`, `ascmhl`, `ascmhl/`). Files matching them are left out. */
  ignorePatterns?: readonly string[];
  files: readonly SealedFile[];
  /** Folder dates, and folders that hold no files (they get directory hashes too). */
  folders?: readonly SealedFolder[];
  /** Formats of the directory hashes and root hash (default: every format that all files have). */
  directoryHashFormats?: readonly HashFormat[];
}

export interface BuiltGeneration {
  sequenceNumber: number;
  fileName: string;
  xml: string;
  bytes: Buffer;
  /** C4 ID of `bytes`: what the chain file records. */
  c4: string;
  rootHash: DirectoryHashesByFormat;
  directoryHashes: Map<string, DirectoryHashesByFormat>;
  /** Paths of input files left out because an ignore pattern matched them. */
  ignoredPaths: string[];
}

/** xs:dateTime in UTC to the second, as the reference tool writes it: 2020-01-16T09:15:00+00:00. */
export function formatMhlDate(date: Date, what = 'date'): string {
  // Not `instanceof Date`: dates from another realm (fs.Stats under jest's VM) are Dates too.
  if (Object.prototype.toString.call(date) !== '[object Date]' || Number.isNaN(date.getTime()))
    throw new MhlError('invalid-input', `${what} is not a valid date`);
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso)) throw new MhlError('invalid-input', `${what} is outside the years 0000-9999`);
  return iso.slice(0, 19) + '+00:00';
}

function assertFolderName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (!name || name.includes('/') || name.includes('\\') || /[\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..') {
    throw new MhlError('invalid-input', `card folder name ${JSON.stringify(name)} cannot be used in a generation file name`);
  }
}

/** `NNNN_<card folder>_<YYYY-MM-DD>_<HHMMSS>Z.mhl`, UTC. */
export function generationFileName(sequenceNumber: number, cardFolderName: string, creationDate: Date): string {
  if (!Number.isSafeInteger(sequenceNumber) || sequenceNumber < 1)
    throw new MhlError('invalid-input', `sequence number must be 1 or more, not ${sequenceNumber}`);
  assertFolderName(cardFolderName);
  const d = formatMhlDate(creationDate, 'creation date');
  return `${String(sequenceNumber).padStart(4, '0')}_${cardFolderName}_${d.slice(0, 10)}_${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}Z.mhl`;
}

function actionFor(file: SealedFile, format: HashFormat): HashAction {
  const action = typeof file.action === 'string' ? file.action : file.action[format];
  if (action === undefined || !(HASH_ACTIONS as readonly string[]).includes(action)) {
    throw new MhlError('invalid-input', `"${file.path}": no valid action (original, verified, failed) for its ${format} hash`);
  }
  return action;
}

function hashElements(b: XmlBuilder, values: HashSet, attrs: (f: HashFormat) => XmlAttributes): void {
  for (const f of HASH_FORMATS) {
    const v = values[f];
    if (v !== undefined) b.element(f, v, attrs(f));
  }
}

function directoryHashBlock(b: XmlBuilder, hashes: DirectoryHashesByFormat, hashDate: string): void {
  const pick = (k: keyof DirectoryHashes): HashSet =>
    Object.fromEntries(formatsOf(hashes as HashSet).map((f) => [f, (hashes[f] as DirectoryHashes)[k]]));
  b.start('content');
  hashElements(b, pick('content'), () => [['hashdate', hashDate]]);
  b.end('content');
  b.start('structure');
  hashElements(b, pick('structure'), () => [['hashdate', hashDate]]);
  b.end('structure');
}

/** Builds the XML of a generation (no I/O). */
export function buildGeneration(input: GenerationInput): BuiltGeneration {
  const creator = input.creator;
  const created = formatMhlDate(creator.creationDate, 'creator creation date');
  const fileName = generationFileName(input.sequenceNumber, input.cardFolderName, creator.creationDate);
  const process = input.process ?? 'transfer';
  if (!PROCESS_TYPES.includes(process)) throw new MhlError('invalid-input', `unknown process type "${String(process)}"`);
  const ignorePatterns = [...(input.ignorePatterns ?? DEFAULT_IGNORE_PATTERNS)];
  for (const p of ignorePatterns) {
    if (!p.trim()) throw new MhlError('invalid-input', 'an ignore pattern is empty');
    assertXmlCharacters(p, 'ignore pattern');
  }
  if (!creator.hostname?.trim()) throw new MhlError('invalid-input', 'creator hostname is required');
  if (!creator.toolVersion?.trim()) throw new MhlError('invalid-input', 'creator tool version is required');
  for (const a of creator.authors ?? []) {
    if (a.email !== undefined && !/^[^@]+@[^.]+\..+$/.test(a.email))
      throw new MhlError('invalid-input', `author e-mail "${a.email}" is not an e-mail address`);
  }

  // Files: validated, normalized, ignored ones left out, no duplicates (compared in NFC).
  const ignoredPaths: string[] = [];
  const seen = new Map<string, string>();
  const files: (SealedFile & { hashes: HashSet })[] = [];
  for (const file of input.files) {
    assertCardRelativePath(file.path, 'file path');
    if (isIgnored(file.path, ignorePatterns)) {
      ignoredPaths.push(file.path);
      continue;
    }
    const key = pathKey(file.path);
    const twin = seen.get(key);
    if (twin !== undefined) throw new MhlError('invalid-input', `"${file.path}" and "${twin}" are the same path (compared in Unicode NFC)`);
    seen.set(key, file.path);
    if (!Number.isSafeInteger(file.size) || file.size < 0)
      throw new MhlError('invalid-input', `"${file.path}": size must be a whole number of bytes`);
    if (file.previousPath !== undefined) assertCardRelativePath(file.previousPath, 'previous path');
    const hashes: HashSet = {};
    for (const f of formatsOf(file.hashes)) hashes[f] = normalizeHashValue(f, file.hashes[f] as string);
    if (Object.keys(hashes).length === 0) throw new MhlError('invalid-input', `"${file.path}" has no hash`);
    for (const f of formatsOf(hashes)) actionFor(file, f);
    files.push({ ...file, hashes });
  }

  const folders = (input.folders ?? []).filter((d) => {
    assertCardRelativePath(d.path, 'folder path');
    return !isIgnored(d.path, ignorePatterns, true);
  });
  const folderInfo = new Map(folders.map((d) => [d.path, d]));

  const dirFormats = input.directoryHashFormats
    ? [...input.directoryHashFormats]
    : files.length
      ? HASH_FORMATS.filter((f) => files.every((file) => file.hashes[f] !== undefined))
      : [DEFAULT_HASH_FORMAT];
  const tree = computeDirectoryHashes(
    files,
    dirFormats,
    folders.map((d) => d.path),
  );

  const b = new XmlBuilder();
  b.start('hashlist', [
    ['version', '2.0'],
    ['xmlns', MHL_NAMESPACE],
  ]);

  b.start('creatorinfo');
  b.element('creationdate', created);
  b.element('hostname', creator.hostname);
  b.element('tool', creator.toolName ?? STUDIOVAULT_TOOL_NAME, [['version', creator.toolVersion]]);
  for (const a of creator.authors ?? []) {
    b.element('author', a.name, [
      ['email', a.email],
      ['phone', a.phone],
      ['role', a.role],
    ]);
  }
  if (creator.location !== undefined) b.element('location', creator.location);
  if (creator.comment !== undefined) b.element('comment', creator.comment);
  b.end('creatorinfo');

  b.start('processinfo');
  b.element('process', process);
  if (dirFormats.length) {
    b.start('roothash');
    directoryHashBlock(b, tree.root, created);
    b.end('roothash');
  }
  if (ignorePatterns.length) {
    b.start('ignore');
    for (const p of ignorePatterns) b.element('pattern', p);
    b.end('ignore');
  }
  b.end('processinfo');

  // <hashes>: depth first, names sorted, each folder's <directoryhash> after its contents (as the reference tool does).
  interface Node {
    dirs: Map<string, Node>;
    files: (typeof files)[number][];
  }
  const root: Node = { dirs: new Map(), files: [] };
  const nodeAt = (segments: string[]): Node => {
    let n = root;
    for (const s of segments) {
      let next = n.dirs.get(s);
      if (!next) n.dirs.set(s, (next = { dirs: new Map(), files: [] }));
      n = next;
    }
    return n;
  };
  for (const f of files) nodeAt(f.path.split('/').slice(0, -1)).files.push(f);
  for (const d of folders) nodeAt(d.path.split('/'));

  const compare = (a: string, c: string): number => (a < c ? -1 : a > c ? 1 : 0);
  const walk = (node: Node, path: string): void => {
    const items: [string, () => void][] = [];
    for (const f of node.files) {
      items.push([
        f.path.slice(f.path.lastIndexOf('/') + 1),
        () => {
          b.start('hash');
          b.element('path', f.path, [
            ['size', String(f.size)],
            ['creationdate', f.created && formatMhlDate(f.created, `creation date of ${f.path}`)],
            ['lastmodificationdate', f.lastModified && formatMhlDate(f.lastModified, `modification date of ${f.path}`)],
          ]);
          const hashDate = f.hashDate ? formatMhlDate(f.hashDate, `hash date of ${f.path}`) : created;
          hashElements(b, f.hashes, (fmt) => [
            ['action', actionFor(f, fmt)],
            ['hashdate', hashDate],
          ]);
          if (f.previousPath !== undefined) b.element('previousPath', f.previousPath);
          b.end('hash');
        },
      ]);
    }
    for (const [name, child] of node.dirs) {
      const childPath = path ? `${path}/${name}` : name;
      items.push([
        name,
        () => {
          walk(child, childPath);
          const info = folderInfo.get(childPath);
          if (dirFormats.length) {
            b.start('directoryhash');
            b.element('path', childPath, [
              ['creationdate', info?.created && formatMhlDate(info.created, `creation date of ${childPath}`)],
              ['lastmodificationdate', info?.lastModified && formatMhlDate(info.lastModified, `modification date of ${childPath}`)],
            ]);
            directoryHashBlock(b, tree.directories.get(childPath) as DirectoryHashesByFormat, created);
            b.end('directoryhash');
          }
        },
      ]);
    }
    items.sort((x, y) => compare(x[0], y[0]));
    for (const [, write] of items) write();
  };
  if (files.length || (dirFormats.length && root.dirs.size)) {
    b.start('hashes');
    walk(root, '');
    b.end('hashes');
  }
  b.end('hashlist');

  const xml = b.toString();
  const bytes = Buffer.from(xml, 'utf8');
  return {
    sequenceNumber: input.sequenceNumber,
    fileName,
    xml,
    bytes,
    c4: c4IdOf(bytes),
    rootHash: tree.root,
    directoryHashes: tree.directories,
    ignoredPaths,
  };
}

/** The XML of `ascmhl_chain.xml` for these entries (sorted by sequence number). */
export function buildChainXml(entries: readonly MhlChainEntry[]): string {
  const b = new XmlBuilder();
  b.start('ascmhldirectory', [['xmlns', MHL_CHAIN_NAMESPACE]]);
  for (const e of [...entries].sort((x, y) => x.sequenceNumber - y.sequenceNumber)) {
    b.start('hashlist', [['sequencenr', String(e.sequenceNumber)]]);
    b.element('path', e.path);
    b.element('c4', normalizeHashValue('c4', e.c4));
    b.end('hashlist');
  }
  b.end('ascmhldirectory');
  return b.toString();
}

const GENERATION_FILE = /^(\d+)_.*\.mhl$/i;

/** Highest sequence number in the chain or among generation file names in `ascmhl/` (0 when none). */
async function latestSequenceOnDisk(ascmhlDir: string, chain: readonly MhlChainEntry[]): Promise<number> {
  let latest = chain.reduce((m, e) => Math.max(m, e.sequenceNumber), 0);
  const names = await readdir(ascmhlDir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  for (const name of names) {
    const m = GENERATION_FILE.exec(name);
    if (m && !name.startsWith('.')) latest = Math.max(latest, Number(m[1]));
  }
  return latest;
}

async function readChainIfAny(chainPath: string): Promise<MhlChainEntry[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(chainPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    return parseChainXml(bytes, chainPath);
  } catch (e) {
    throw new MhlError(
      'unreadable-chain',
      `${chainPath} cannot be read, so no generation is added (it would lose the chain): ${(e as Error).message}`,
    );
  }
}

export interface WrittenGeneration extends BuiltGeneration {
  generationPath: string;
  chainPath: string;
}

export type WriteGenerationInput = Omit<GenerationInput, 'sequenceNumber' | 'cardFolderName'> & {
  /** When given, it must be the next number on disk (guards against a history that changed since it was read). */
  sequenceNumber?: number;
  /** Default: the card folder's own name. */
  cardFolderName?: string;
};

/**
 * Adds a generation to a card folder's `ascmhl/` history (created when absent) and appends it to
 * `ascmhl_chain.xml`. The generation file is never replaced; both files are written durably
 * (temporary file, fsync, rename or link, fsync of the folder). The generation is written before
 * the chain: a crash between the two leaves a complete generation the chain does not list yet,
 * which the reader reports as "unchained" and the next write numbers past.
 *
 * Callers serialize writes per card folder (the job queue does): two writers at once could both
 * read the same chain.
 */
export async function writeGeneration(cardFolder: string, input: WriteGenerationInput): Promise<WrittenGeneration> {
  const card = await stat(cardFolder).catch(() => undefined);
  if (!card?.isDirectory()) throw new MhlError('invalid-input', `card folder ${cardFolder} does not exist`);
  const ascmhlDir = join(cardFolder, ASCMHL_FOLDER);
  const chainPath = join(ascmhlDir, CHAIN_FILE_NAME);
  const chain = await readChainIfAny(chainPath);
  const next = (await latestSequenceOnDisk(ascmhlDir, chain)) + 1;
  if (input.sequenceNumber !== undefined && input.sequenceNumber !== next) {
    throw new MhlError(
      'stale-history',
      `${ascmhlDir} already holds generation ${next - 1}; this generation was prepared as number ${input.sequenceNumber}: read the history again`,
    );
  }
  const built = buildGeneration({ ...input, sequenceNumber: next, cardFolderName: input.cardFolderName ?? basename(cardFolder) });
  const chainXml = buildChainXml([...chain, { sequenceNumber: next, path: built.fileName, c4: built.c4 }]);

  await ensureDirectoryDurably(ascmhlDir);
  const generationPath = join(ascmhlDir, built.fileName);
  await writeFileDurably(generationPath, built.bytes, { noClobber: true });
  await writeFileDurably(chainPath, chainXml);
  return { ...built, generationPath, chainPath };
}
