import { AlignedBufferPool } from '@studiovault/hashing';

/**
 * The buffers restored bytes travel in, from the network to the restored file: 1 MiB, aligned
 * for O_DIRECT. A large object comes down in ranges, each copied out of the socket's chunks
 * into these as it arrives (the chunks die young, see chunksDone) and written as they are; other
 * files are gathered into them by the writer. 40 are kept between uses: the ranges in flight
 * of one large file (4 × 8) plus two per file being written; more are made when two large
 * files come down at once, and left to the garbage collector afterwards.
 */
export const restoreBuffers = new AlignedBufferPool(1024 * 1024, 40);
