/**
 * Reading an existing `ascmhl/` history (StudioVault's own, a camera's, a DIT tool's, another
 * offload tool's): the chain file and every generation, checked against each other, folded into
 * one history: for each file the latest known hash in each format.
 *
 * The reader is lenient where other tools differ harmlessly (hash formats out of XSD order,
 * unknown extra elements, a missing `sequencenr`) and records a warning; it is strict where
 * a wrong reading would be unsafe (hash values, paths, duplicate formats): such a generation is
 * reported unreadable and contributes nothing.
 *
 * Trust: a generation whose bytes do not match the C4 ID the chain records is reported
 * (`c4-mismatch`) and left out of the history: its hashes cannot be trusted. A generation the
 * chain does not list (for example a crash between writing it and updating the chain) is kept
 * but reported (`unchained-generation`). Any issue makes `intact` false.
 * The chain guards against accidental change (bit rot, a careless edit), not against someone who
 * can rewrite both a generation and the chain.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { c4IdOf } from './c4';
import { MhlError } from './errors';
import { HASH_FORMATS, HashFormat, isHashFormat, normalizeHashValue } from './hash-formats';
import {
  HASH_ACTIONS,
  HashAction,
  MHL_CHAIN_NAMESPACE,
  MHL_NAMESPACE,
  MhlAuthor,
  MhlChainEntry,
  MhlDirectoryRecord,
  MhlFileRecord,
  MhlGenerationDocument,
  MhlHashEntry,
  MhlHashListReference,
  PROCESS_TYPES,
} from './mhl-model';
import { ASCMHL_FOLDER, CHAIN_FILE_NAME, DEFAULT_IGNORE_PATTERNS, assertCardRelativePath, pathKey } from './paths';
import { XmlElement, childElement, childElements, parseXml } from './xml';

/** Largest generation or chain file read (a card of a million files is about 500 MB of MHL). */
export const MAX_MHL_FILE_BYTES = 768 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// One generation file

function invalid(source: string, el: XmlElement | undefined, message: string): never {
  throw new MhlError('invalid-mhl', `${source}${el ? `, line ${el.line}` : ''}: ${message}`);
}

function checkNamespace(el: XmlElement, expected: string, source: string): void {
  if (el.namespace !== null && el.namespace !== expected)
    invalid(source, el, `<${el.name}> is in namespace "${el.namespace}", expected "${expected}"`);
}

function optionalText(parent: XmlElement, name: string, source: string): string | undefined {
  return childElement(parent, name, source)?.text.trim();
}

function parseSize(el: XmlElement, source: string): number | undefined {
  const raw = el.attributes.size;
  if (raw === undefined) return undefined;
  if (!/^\s*\+?\d+\s*$/.test(raw)) invalid(source, el, `size "${raw}" is not a whole number`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) invalid(source, el, `size ${raw} is too large`);
  return n;
}

function parseHashEntries(parent: XmlElement, source: string, warnings: string[], allowed: ReadonlySet<string>): MhlHashEntry[] {
  const entries: MhlHashEntry[] = [];
  let lastIndex = -1;
  let outOfOrder = false;
  for (const el of parent.children) {
    if (!isHashFormat(el.name)) {
      if (!allowed.has(el.name))
        warnings.push(`line ${el.line}: <${el.name}> in <${parent.name}> is not an ASC MHL v2.0 hash format; ignored`);
      continue;
    }
    if (entries.some((e) => e.format === el.name)) invalid(source, el, `<${parent.name}> has two ${el.name} hashes`);
    let value: string;
    try {
      value = normalizeHashValue(el.name, el.text);
    } catch (e) {
      invalid(source, el, (e as Error).message);
    }
    const action = el.attributes.action;
    if (action !== undefined && !(HASH_ACTIONS as readonly string[]).includes(action)) invalid(source, el, `unknown action "${action}"`);
    const index = HASH_FORMATS.indexOf(el.name);
    if (index < lastIndex) outOfOrder = true;
    lastIndex = Math.max(lastIndex, index);
    entries.push({ format: el.name, value, action: action as HashAction | undefined, hashDate: el.attributes.hashdate });
  }
  if (outOfOrder) warnings.push(`line ${parent.line}: hash formats are not in the XSD's order (c4, md5, sha1, xxh128, xxh3, xxh64)`);
  return entries;
}

const HASH_CHILDREN = new Set(['path', 'previousPath', 'metadata']);
const CONTAINER_CHILDREN = new Set<string>();

function parsePathElement(parent: XmlElement, source: string): XmlElement {
  const el = childElement(parent, 'path', source);
  if (!el) return invalid(source, parent, `<${parent.name}> has no <path>`);
  try {
    assertCardRelativePath(el.text, 'path');
  } catch (e) {
    invalid(source, el, (e as Error).message);
  }
  return el;
}

function parsePreviousPath(parent: XmlElement, source: string): string | undefined {
  const el = childElement(parent, 'previousPath', source);
  if (!el) return undefined;
  try {
    assertCardRelativePath(el.text, 'previous path');
  } catch (e) {
    invalid(source, el, (e as Error).message);
  }
  return el.text;
}

function parseFileRecord(el: XmlElement, source: string, warnings: string[]): MhlFileRecord {
  const path = parsePathElement(el, source);
  const hashes = parseHashEntries(el, source, warnings, HASH_CHILDREN);
  if (hashes.length === 0) warnings.push(`line ${el.line}: "${path.text}" is recorded without any hash`);
  return {
    path: path.text,
    size: parseSize(path, source),
    creationDate: path.attributes.creationdate,
    lastModificationDate: path.attributes.lastmodificationdate,
    hashes,
    previousPath: parsePreviousPath(el, source),
  };
}

function parseContainer(parent: XmlElement, name: 'content' | 'structure', source: string, warnings: string[]): MhlHashEntry[] {
  const el = childElement(parent, name, source);
  if (!el) return invalid(source, parent, `<${parent.name}> has no <${name}>`);
  return parseHashEntries(el, source, warnings, CONTAINER_CHILDREN);
}

function parseDirectoryRecord(el: XmlElement, source: string, warnings: string[]): MhlDirectoryRecord {
  const path = parsePathElement(el, source);
  return {
    path: path.text,
    creationDate: path.attributes.creationdate,
    lastModificationDate: path.attributes.lastmodificationdate,
    content: parseContainer(el, 'content', source, warnings),
    structure: parseContainer(el, 'structure', source, warnings),
    previousPath: parsePreviousPath(el, source),
  };
}

/** Parses one generation file. Throws `invalid-xml` / `invalid-mhl` with the line at fault. */
export function parseGenerationXml(data: Uint8Array | string, source = 'generation file'): MhlGenerationDocument {
  const root = parseXml(data, { source });
  if (root.name !== 'hashlist') invalid(source, root, `the root element is <${root.name}>, not <hashlist>`);
  checkNamespace(root, MHL_NAMESPACE, source);
  if (root.attributes.version !== '2.0') invalid(source, root, `version "${root.attributes.version ?? ''}" is not ASC MHL 2.0`);
  const warnings: string[] = [];
  if (root.namespace === null) warnings.push(`<hashlist> has no namespace (expected ${MHL_NAMESPACE})`);

  const creatorEl = childElement(root, 'creatorinfo', source);
  if (!creatorEl) warnings.push('no <creatorinfo>');
  const toolEl = creatorEl && childElement(creatorEl, 'tool', source);
  const authors: MhlAuthor[] = (creatorEl ? childElements(creatorEl, 'author') : []).map((a) => ({
    name: a.text.trim(),
    email: a.attributes.email,
    phone: a.attributes.phone,
    role: a.attributes.role,
  }));
  const creator = {
    creationDate: (creatorEl && optionalText(creatorEl, 'creationdate', source)) ?? '',
    hostname: (creatorEl && optionalText(creatorEl, 'hostname', source)) ?? '',
    tool: { name: toolEl?.text.trim() ?? '', version: toolEl?.attributes.version },
    authors,
    location: creatorEl && optionalText(creatorEl, 'location', source),
    comment: creatorEl && optionalText(creatorEl, 'comment', source),
  };

  const processEl = childElement(root, 'processinfo', source);
  if (!processEl) warnings.push('no <processinfo>');
  const process = (processEl && optionalText(processEl, 'process', source)) ?? '';
  if (!(PROCESS_TYPES as readonly string[]).includes(process)) warnings.push(`process "${process}" is not in-place, transfer or flatten`);
  const rootHashEl = processEl && childElement(processEl, 'roothash', source);
  const ignoreEl = processEl && childElement(processEl, 'ignore', source);

  const files: MhlFileRecord[] = [];
  const directories: MhlDirectoryRecord[] = [];
  const hashesEl = childElement(root, 'hashes', source);
  for (const el of hashesEl?.children ?? []) {
    if (el.name === 'hash') files.push(parseFileRecord(el, source, warnings));
    else if (el.name === 'directoryhash') directories.push(parseDirectoryRecord(el, source, warnings));
    else warnings.push(`line ${el.line}: <${el.name}> in <hashes> ignored`);
  }
  const seen = new Map<string, number>();
  for (const f of files) {
    const key = pathKey(f.path);
    if (seen.has(key)) invalid(source, undefined, `"${f.path}" is recorded twice`);
    seen.set(key, 1);
  }

  const references: MhlHashListReference[] = [];
  const referencesEl = childElement(root, 'references', source);
  for (const r of referencesEl ? childElements(referencesEl, 'hashlistreference') : []) {
    const path = childElement(r, 'path', source)?.text ?? '';
    const c4El = childElement(r, 'c4', source);
    try {
      references.push({ path, c4: normalizeHashValue('c4', c4El?.text ?? '') });
    } catch (e) {
      invalid(source, r, (e as Error).message);
    }
  }

  return {
    version: '2.0',
    creator,
    process: {
      process,
      rootHash: rootHashEl && {
        content: parseContainer(rootHashEl, 'content', source, warnings),
        structure: parseContainer(rootHashEl, 'structure', source, warnings),
      },
      ignorePatterns: ignoreEl ? childElements(ignoreEl, 'pattern').map((p) => p.text) : [],
    },
    files,
    directories,
    references,
    warnings,
  };
}

/** Parses `ascmhl_chain.xml`. A missing `sequencenr` is taken from the file name's number. */
export function parseChainXml(data: Uint8Array | string, source = CHAIN_FILE_NAME): MhlChainEntry[] {
  const root = parseXml(data, { source });
  if (root.name !== 'ascmhldirectory') invalid(source, root, `the root element is <${root.name}>, not <ascmhldirectory>`);
  checkNamespace(root, MHL_CHAIN_NAMESPACE, source);
  return childElements(root, 'hashlist').map((el) => {
    const path = childElement(el, 'path', source)?.text.trim();
    if (!path) return invalid(source, el, '<hashlist> has no <path>');
    const c4El = childElement(el, 'c4', source);
    if (!c4El) return invalid(source, el, '<hashlist> has no <c4>');
    let c4: string;
    try {
      c4 = normalizeHashValue('c4', c4El.text);
    } catch (e) {
      return invalid(source, c4El, (e as Error).message);
    }
    const raw = el.attributes.sequencenr ?? /^(\d+)_/.exec(path)?.[1];
    if (raw === undefined || !/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(Number(raw)))
      invalid(source, el, `sequence number "${raw ?? ''}" is not a whole number`);
    return { sequenceNumber: Number(raw), path, c4 };
  });
}

// ---------------------------------------------------------------------------------------------
// The history of a card folder

export type HistoryIssueKind =
  | 'missing-chain'
  | 'unreadable-chain'
  | 'c4-mismatch'
  | 'missing-generation'
  | 'unchained-generation'
  | 'unreadable-generation'
  | 'sequence-mismatch'
  | 'duplicate-sequence'
  | 'sequence-gap';

/** Something wrong with the history itself (as opposed to the media files). */
export interface HistoryIssue {
  kind: HistoryIssueKind;
  message: string;
  fileName?: string;
  sequenceNumber?: number;
  /** For `c4-mismatch`: what the chain records. */
  expected?: string;
  /** For `c4-mismatch`: the C4 ID of the generation file as it is now. */
  actual?: string;
}

export interface HistoryGeneration {
  sequenceNumber: number;
  fileName: string;
  /** C4 ID of the file's bytes as read. */
  c4: string;
  /** `chained`: the chain lists it with this C4 ID; `unchained`: the chain does not list it. */
  status: 'chained' | 'unchained';
  document: MhlGenerationDocument;
}

export interface KnownHash {
  format: HashFormat;
  value: string;
  action?: HashAction;
  hashDate?: string;
  sequenceNumber: number;
}

/** What the history knows about one file. */
export interface FileHistory {
  /** As most recently recorded. */
  path: string;
  size?: number;
  lastModificationDate?: string;
  /** Latest good (original or verified) hash per format: what the file should still hash to. */
  hashes: Partial<Record<HashFormat, KnownHash>>;
  /** Recorded failures (action `failed`), oldest first. */
  failures: KnownHash[];
  /** Earlier paths of the file (from `previousPath`). */
  previousPaths: string[];
  firstSequenceNumber: number;
  lastSequenceNumber: number;
}

export interface MediaHashHistory {
  cardFolder: string;
  /** Trusted generations (chained, or unchained without evidence of change), by sequence number. */
  generations: HistoryGeneration[];
  issues: HistoryIssue[];
  /** No issue: every generation is in the chain with a matching C4 ID, numbered 1..N. */
  intact: boolean;
  /** By path in NFC. */
  files: Map<string, FileHistory>;
  /** Highest generation number seen anywhere (chain or file names), 0 when none. */
  latestSequenceNumber: number;
  nextSequenceNumber: number;
  /** The latest generation's ignore patterns (the default ones when there is no generation). */
  ignorePatterns: string[];
}

/** One file found in `ascmhl/`. */
export interface HistoryFile {
  fileName: string;
  bytes: Uint8Array;
}

const GENERATION_NUMBER = /^(\d+)_/;

/** Builds the history from the chain's bytes (undefined when there is no chain file) and the generation files' bytes. No I/O. */
export function assembleHistory(
  chainBytes: Uint8Array | undefined,
  generationFiles: readonly HistoryFile[],
  cardFolder = '',
): MediaHashHistory {
  const issues: HistoryIssue[] = [];
  let chain: MhlChainEntry[] = [];
  if (chainBytes === undefined) {
    if (generationFiles.length)
      issues.push({ kind: 'missing-chain', message: `${CHAIN_FILE_NAME} is missing: no generation can be checked` });
  } else {
    try {
      chain = parseChainXml(chainBytes);
    } catch (e) {
      issues.push({ kind: 'unreadable-chain', message: `${CHAIN_FILE_NAME} cannot be read: ${(e as Error).message}` });
    }
  }

  let latestSequenceNumber = 0;
  const byName = new Map(generationFiles.map((f) => [f.fileName, f]));
  const chainByName = new Map<string, MhlChainEntry>();
  const seenSequence = new Map<number, string>();
  for (const entry of chain) {
    latestSequenceNumber = Math.max(latestSequenceNumber, entry.sequenceNumber);
    const other = seenSequence.get(entry.sequenceNumber);
    if (other !== undefined) {
      issues.push({
        kind: 'duplicate-sequence',
        sequenceNumber: entry.sequenceNumber,
        fileName: entry.path,
        message: `generation ${entry.sequenceNumber} is listed twice in the chain (${other}, ${entry.path})`,
      });
    }
    seenSequence.set(entry.sequenceNumber, entry.path);
    if (chainByName.has(entry.path)) {
      issues.push({ kind: 'duplicate-sequence', fileName: entry.path, message: `${entry.path} is listed twice in the chain` });
    }
    chainByName.set(entry.path, entry);
    if (!byName.has(entry.path)) {
      issues.push({
        kind: 'missing-generation',
        sequenceNumber: entry.sequenceNumber,
        fileName: entry.path,
        message: `generation ${entry.sequenceNumber} (${entry.path}) is in the chain but not in ${ASCMHL_FOLDER}/`,
      });
    }
  }

  const generations: HistoryGeneration[] = [];
  for (const file of generationFiles) {
    const entry = chainByName.get(file.fileName);
    const fromName = GENERATION_NUMBER.exec(file.fileName)?.[1];
    const nameNumber = fromName === undefined ? undefined : Number(fromName);
    if (nameNumber !== undefined) latestSequenceNumber = Math.max(latestSequenceNumber, nameNumber);
    const c4 = c4IdOf(file.bytes);
    if (entry && entry.c4 !== c4) {
      issues.push({
        kind: 'c4-mismatch',
        sequenceNumber: entry.sequenceNumber,
        fileName: file.fileName,
        expected: entry.c4,
        actual: c4,
        message: `generation ${entry.sequenceNumber} (${file.fileName}) changed since it was written: the chain records ${entry.c4}, the file is now ${c4}; its hashes are not used`,
      });
      continue;
    }
    const sequenceNumber = entry?.sequenceNumber ?? nameNumber;
    if (!entry) {
      issues.push({
        kind: 'unchained-generation',
        sequenceNumber,
        fileName: file.fileName,
        message:
          sequenceNumber === undefined
            ? `${file.fileName} is neither in the chain nor numbered; it is not used`
            : `generation ${sequenceNumber} (${file.fileName}) is not in the chain, so it cannot be checked`,
      });
      if (sequenceNumber === undefined) continue;
    } else if (nameNumber !== undefined && nameNumber !== entry.sequenceNumber) {
      issues.push({
        kind: 'sequence-mismatch',
        sequenceNumber: entry.sequenceNumber,
        fileName: file.fileName,
        message: `${file.fileName} is numbered ${nameNumber} but the chain lists it as generation ${entry.sequenceNumber}`,
      });
    }
    let document: MhlGenerationDocument;
    try {
      document = parseGenerationXml(file.bytes, file.fileName);
    } catch (e) {
      issues.push({ kind: 'unreadable-generation', sequenceNumber, fileName: file.fileName, message: (e as Error).message });
      continue;
    }
    generations.push({
      sequenceNumber: sequenceNumber as number,
      fileName: file.fileName,
      c4,
      status: entry ? 'chained' : 'unchained',
      document,
    });
  }
  generations.sort((a, b) => a.sequenceNumber - b.sequenceNumber || (a.fileName < b.fileName ? -1 : 1));

  const numbers = new Set([...chain.map((e) => e.sequenceNumber), ...generations.map((g) => g.sequenceNumber)]);
  for (let n = 1; n <= latestSequenceNumber; n++) {
    if (!numbers.has(n) && !issues.some((i) => i.sequenceNumber === n)) {
      issues.push({ kind: 'sequence-gap', sequenceNumber: n, message: `generation ${n} is missing from the history` });
    }
  }

  const files = new Map<string, FileHistory>();
  for (const g of generations) {
    for (const record of g.document.files) {
      const key = pathKey(record.path);
      if (record.previousPath !== undefined) {
        const previousKey = pathKey(record.previousPath);
        const moved = files.get(previousKey);
        if (moved && previousKey !== key) {
          files.delete(previousKey);
          moved.previousPaths.push(moved.path);
          files.set(key, moved);
        }
      }
      let fh = files.get(key);
      if (!fh) {
        fh = {
          path: record.path,
          hashes: {},
          failures: [],
          previousPaths: [],
          firstSequenceNumber: g.sequenceNumber,
          lastSequenceNumber: g.sequenceNumber,
        };
        files.set(key, fh);
      }
      fh.path = record.path;
      fh.lastSequenceNumber = g.sequenceNumber;
      // Size and date follow the last record that was not a failure (a failed copy's size is not the file's).
      if (record.hashes.length === 0 || record.hashes.some((h) => h.action !== 'failed')) {
        fh.size = record.size ?? fh.size;
        fh.lastModificationDate = record.lastModificationDate ?? fh.lastModificationDate;
      }
      for (const h of record.hashes) {
        const known: KnownHash = {
          format: h.format,
          value: h.value,
          action: h.action,
          hashDate: h.hashDate,
          sequenceNumber: g.sequenceNumber,
        };
        if (h.action === 'failed') fh.failures.push(known);
        else fh.hashes[h.format] = known;
      }
    }
  }

  const last = generations[generations.length - 1];
  return {
    cardFolder,
    generations,
    issues,
    intact: issues.length === 0,
    files,
    latestSequenceNumber,
    nextSequenceNumber: latestSequenceNumber + 1,
    ignorePatterns: last ? [...last.document.process.ignorePatterns] : [...DEFAULT_IGNORE_PATTERNS],
  };
}

async function readLimited(path: string): Promise<Buffer> {
  const info = await stat(path);
  if (info.size > MAX_MHL_FILE_BYTES)
    throw new MhlError('invalid-mhl', `${path} is ${info.size} bytes, more than an MHL file may be (${MAX_MHL_FILE_BYTES})`);
  return readFile(path);
}

/**
 * Reads the `ascmhl/` history of a card folder. A card folder without `ascmhl/` has an empty,
 * intact history. Nested histories (`ascmhl/` folders further down) are not read.
 */
export async function readCardHistory(cardFolder: string): Promise<MediaHashHistory> {
  const dir = join(cardFolder, ASCMHL_FOLDER);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return assembleHistory(undefined, [], cardFolder);
    throw e;
  }
  const chainBytes = names.includes(CHAIN_FILE_NAME) ? await readLimited(join(dir, CHAIN_FILE_NAME)) : undefined;
  let chainNames: string[] = [];
  if (chainBytes) {
    try {
      chainNames = parseChainXml(chainBytes).map((e) => e.path);
    } catch {
      // reported by assembleHistory
    }
  }
  const wanted = new Set(names.filter((n) => /\.mhl$/i.test(n) && !n.startsWith('.')));
  for (const n of chainNames) if (names.includes(n) && !n.includes('/') && n !== '.' && n !== '..') wanted.add(n);
  const files: HistoryFile[] = [];
  const unreadable: HistoryIssue[] = [];
  for (const fileName of [...wanted].sort()) {
    try {
      files.push({ fileName, bytes: await readLimited(join(dir, fileName)) });
    } catch (e) {
      unreadable.push({ kind: 'unreadable-generation', fileName, message: `${fileName} cannot be read: ${(e as Error).message}` });
    }
  }
  const history = assembleHistory(chainBytes, files, cardFolder);
  if (unreadable.length) {
    history.issues.push(...unreadable);
    history.issues = history.issues.filter((i) => i.kind !== 'missing-generation' || !unreadable.some((u) => u.fileName === i.fileName));
    history.intact = false;
  }
  return history;
}
