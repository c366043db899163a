/**
 * What an ASC MHL generation file and the chain file say, as plain data. Dates are kept as the
 * xs:dateTime strings found in the file.
 */
import { HashFormat } from './hash-formats';

export const MHL_NAMESPACE = 'urn:ASC:MHL:v2.0';
export const MHL_CHAIN_NAMESPACE = 'urn:ASC:MHL:DIRECTORY:v2.0';

/** `original`: first hash of the file in this format; `verified`: re-hashed and equal to the history; `failed`: re-hashed and different. */
export const HASH_ACTIONS = ['original', 'verified', 'failed'] as const;
export type HashAction = (typeof HASH_ACTIONS)[number];

/** `transfer`: a copy was made (StudioVault's ingest); `in-place`: a folder sealed where it is; `flatten`: files gathered from several folders. */
export const PROCESS_TYPES = ['in-place', 'transfer', 'flatten'] as const;
export type ProcessType = (typeof PROCESS_TYPES)[number];

export interface MhlHashEntry {
  format: HashFormat;
  value: string;
  action?: HashAction;
  hashDate?: string;
}

export interface MhlFileRecord {
  path: string;
  size?: number;
  creationDate?: string;
  lastModificationDate?: string;
  hashes: MhlHashEntry[];
  previousPath?: string;
}

export interface MhlDirectoryRecord {
  path: string;
  creationDate?: string;
  lastModificationDate?: string;
  content: MhlHashEntry[];
  structure: MhlHashEntry[];
  previousPath?: string;
}

export interface MhlAuthor {
  name: string;
  email?: string;
  phone?: string;
  role?: string;
}

export interface MhlCreatorInfo {
  creationDate: string;
  hostname: string;
  tool: { name: string; version?: string };
  authors: MhlAuthor[];
  location?: string;
  comment?: string;
}

export interface MhlProcessInfo {
  /** One of PROCESS_TYPES in a valid file; a reader keeps another value as found (with a warning). */
  process: ProcessType | (string & NonNullable<unknown>);
  rootHash?: { content: MhlHashEntry[]; structure: MhlHashEntry[] };
  ignorePatterns: string[];
}

/** A reference to a nested history (an `ascmhl/` folder further down). Read, not followed. */
export interface MhlHashListReference {
  path: string;
  c4: string;
}

/** One generation file (`ascmhl/NNNN_<folder>_<date>_<time>Z.mhl`). */
export interface MhlGenerationDocument {
  version: '2.0';
  creator: MhlCreatorInfo;
  process: MhlProcessInfo;
  files: MhlFileRecord[];
  directories: MhlDirectoryRecord[];
  references: MhlHashListReference[];
  /** Things a lenient reader accepted but that do not follow the XSD (unknown hash formats, order). */
  warnings: string[];
}

/** One `<hashlist>` of `ascmhl_chain.xml`. */
export interface MhlChainEntry {
  sequenceNumber: number;
  /** The generation file's name inside `ascmhl/`. */
  path: string;
  /** C4 ID of the generation file's exact bytes. */
  c4: string;
}
