import type { IncomingMessage } from 'node:http';
import { ChunkGatherer, chunksDone, DIRECT_ALIGN } from '@studiovault/hashing';
import { uploadBuffers } from './upload-buffers';

/** Chunks queued before the socket is paused. */
const QUEUED_CHUNKS = 2;

/**
 * An upload's request body as a web stream of 1 MiB chunks in aligned upload buffers. tus
 * passes each chunk through four stream layers (web stream, Node stream, pass-through, size
 * limiter) before the store sees it; at the socket's 64 KiB that per-chunk cost was a large
 * part of the server's CPU during an ingest. Each chunk is laid out so that its address ≡
 * its file position (mod 4096), the upload's offset taken from `Upload-Offset`: the store
 * writes it to both volumes with O_DIRECT without another copy (and copies a chunk that is
 * laid out otherwise). Same back-pressure and failure behaviour as `Readable.toWeb(req)`: a
 * client that goes away errors the stream, a cancelled stream destroys the request.
 */
export function coalescedBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  const offset = Number(req.headers['upload-offset'] ?? 0);
  const gathered = new ChunkGatherer(uploadBuffers, Number.isSafeInteger(offset) && offset > 0 ? offset % DIRECT_ALIGN : 0);
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          fn();
        };
        req.on('data', (chunk: Buffer) => {
          if (done) return;
          for (const full of gathered.add(chunk)) controller.enqueue(full);
          chunksDone(chunk.length); // copied: Node's copy of the socket bytes is garbage now
          if ((controller.desiredSize ?? 1) <= 0) req.pause();
        });
        req.once('end', () =>
          finish(() => {
            const rest = gathered.rest();
            if (rest) controller.enqueue(rest);
            controller.close();
          }),
        );
        req.once('error', (err) => finish(() => controller.error(err)));
        req.once('close', () => {
          if (!req.complete) finish(() => controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
        });
      },
      pull() {
        req.resume();
      },
      cancel(reason) {
        done = true;
        gathered.drop();
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: QUEUED_CHUNKS },
  );
}
