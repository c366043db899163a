import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@tus/server';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { DataSource } from 'typeorm';
import { inputErrorFromDatabase } from '@studiovault/catalog';
import { AppError, currentContext, isDatabaseUnavailable, statusOf } from '@studiovault/common';
import { ErrorCode } from '@studiovault/contracts';
import { JobName, OnJob } from '@studiovault/jobs';
import { DualVolumeStore } from './dual-volume.store';
import { IngestService } from './ingest.service';
import { coalescedBody } from './request-body';
import { VolumeWriteError } from './volume-files';

export const TUS_PATH = '/files';
const log = new Logger('TusUploads');

/** The tus 1.0 endpoint (core, creation, termination, expiration) over the dual-volume store. */
@Injectable()
export class TusUploads {
  readonly server: Server;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly ingest: IngestService,
  ) {
    const store = new DualVolumeStore(
      dataSource,
      () => ingest.storeVolumes(),
      (upload) => ingest.onReceived(upload),
    );
    this.server = new Server({
      path: TUS_PATH,
      datastore: store,
      relativeLocation: true,
      respectForwardedHeaders: true,
      // The portal uploads from its own origin, which needs no CORS; no other origin gets an
      // Access-Control-Allow-Origin (tus's default would answer `*` to every site).
      allowedOrigins: () => false,
      onUploadCreate: async (_req, upload) => {
        const meta = upload.metadata ?? {};
        await this.ingest.createUpload(upload.id, {
          cardId: meta.cardId ?? '',
          relativePath: meta.relativePath ?? undefined,
          size: upload.size ?? NaN,
          modifiedTime: meta.mtime ? new Date(meta.mtime) : undefined,
          xxh64: meta.xxh64 ?? undefined,
          sha256: meta.sha256 ?? undefined,
          kind: meta.kind ?? undefined,
        });
        return {};
      },
      onResponseError: (_req, err) => toTusError(err),
    });
  }

  /** The tus expiration extension: abandoned uploads go, with their staged bytes on both volumes. */
  @OnJob(JobName.UploadsExpire)
  async expireAbandoned(): Promise<{ removed: number }> {
    return { removed: await this.server.cleanUpExpiredUploads() };
  }

  /** As `Server.handle`, with an upload's body in 1 MiB chunks (see coalescedBody). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = new NodeRequest({ req, res });
    if (req.method === 'PATCH' || req.method === 'POST') {
      let body: ReadableStream<Uint8Array> | undefined;
      Object.defineProperty(request, 'body', { get: () => (body ??= coalescedBody(req)) });
    }
    const response = await this.server.handleWeb(request);
    await sendNodeResponse(res, response);
  }
}

/** tus's own protocol errors: `{ status_code, body }` with a short text body of its own. */
function isTusProtocolError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { status_code?: unknown }).status_code === 'number';
}

/**
 * StudioVault's errors travel through tus as JSON bodies with their stable code; tus's own errors
 * pass as they are. Anything else (a database error included) is logged with the request id and
 * answered as a generic 500: tus would put the error's own text in the body.
 */
function toTusError(err: unknown): { status_code: number; body: string } | undefined {
  let appError: AppError | undefined;
  if (err instanceof VolumeWriteError)
    appError = new AppError(err.full ? ErrorCode.InsufficientStorage : ErrorCode.VolumeOffline, err.message);
  else if (err instanceof AppError) appError = err;
  else if (isTusProtocolError(err)) return undefined;
  else if (isDatabaseUnavailable(err))
    appError = new AppError(ErrorCode.DatabaseUnavailable, 'The catalog database is not reachable right now; try again shortly');
  else appError = inputErrorFromDatabase(err);
  const requestId = currentContext().requestId || undefined;
  if (!appError) {
    log.error(`request ${requestId}: tus upload failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    appError = new AppError(ErrorCode.Internal, 'Internal error; the server log has the details');
  }
  const statusCode = statusOf(appError.code);
  return {
    status_code: statusCode,
    body: JSON.stringify({ statusCode, code: appError.code, message: appError.message, details: appError.details, requestId }),
  };
}
