/**
 * ASC MHL v2.0 (Media Hash List) for StudioVault's card folders: write a generation after an
 * ingest copy, read a card's existing history (camera, DIT, other tools), verify files against
 * it, and continue it with the next generation.
 */
export * from './errors';
export * from './c4';
export * from './hash-formats';
export * from './directory-hash';
export * from './paths';
export * from './mhl-model';
export * from './mhl-writer';
export * from './mhl-reader';
export * from './mhl-history';
export * from './mhl-seal';
export { writeFileDurably, fsyncDirectory, ensureDirectoryDurably } from './durable-fs';
export type { DurableWriteOptions } from './durable-fs';
