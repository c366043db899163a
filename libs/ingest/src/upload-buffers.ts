import { AlignedBufferPool } from '@studiovault/hashing';

/**
 * The buffers an upload's bytes travel in, from the socket to both volumes: the request body
 * is gathered into them (see coalescedBody) and the store writes them with O_DIRECT as they
 * are, so each byte is copied once in user space. 1 MiB each; about six per upload in
 * progress (queued, in the tus layers, being written); 32 are kept between uploads.
 */
export const uploadBuffers = new AlignedBufferPool(1024 * 1024, 32);
