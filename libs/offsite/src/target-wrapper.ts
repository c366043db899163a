import type { Readable } from 'node:stream';
import type {
  Body,
  ByteRange,
  MultipartOptions,
  MultipartUpload,
  ObjectInfo,
  ObjectVersion,
  OffsiteTarget,
  PartOptions,
  PreflightReport,
  PutOptions,
  PutResult,
  Retention,
  TargetCapabilities,
  UploadedPart,
} from './target';

/** A target that hands every call to another one: the base of retry, test and logging wrappers. */
export class TargetWrapper implements OffsiteTarget {
  constructor(protected readonly inner: OffsiteTarget) {}

  get capabilities(): TargetCapabilities {
    return this.inner.capabilities;
  }
  get description(): string {
    return this.inner.description;
  }
  put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }
  head(key: string, versionId?: string): Promise<ObjectInfo> {
    return this.inner.head(key, versionId);
  }
  get(key: string, versionId?: string, range?: ByteRange): Promise<Readable> {
    return this.inner.get(key, versionId, range);
  }
  list(prefix: string): AsyncIterable<ObjectVersion> {
    return this.inner.list(prefix);
  }
  getRetention(key: string, versionId: string): Promise<Retention | null> {
    return this.inner.getRetention(key, versionId);
  }
  putRetention(key: string, versionId: string, retention: Retention): Promise<void> {
    return this.inner.putRetention(key, versionId, retention);
  }
  getLegalHold(key: string, versionId: string): Promise<boolean> {
    return this.inner.getLegalHold(key, versionId);
  }
  putLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    return this.inner.putLegalHold(key, versionId, on);
  }
  deleteVersion(key: string, versionId: string, options?: { bypassGovernance?: boolean }): Promise<void> {
    return this.inner.deleteVersion(key, versionId, options);
  }
  createMultipart(key: string, options: MultipartOptions): Promise<{ uploadId: string }> {
    return this.inner.createMultipart(key, options);
  }
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    return this.inner.uploadPart(key, uploadId, partNumber, body, options);
  }
  listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    return this.inner.listParts(key, uploadId);
  }
  completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    return this.inner.completeMultipart(key, uploadId, parts);
  }
  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.inner.abortMultipart(key, uploadId);
  }
  listMultipartUploads(prefix: string): Promise<MultipartUpload[]> {
    return this.inner.listMultipartUploads(prefix);
  }
  preflight(): Promise<PreflightReport> {
    return this.inner.preflight();
  }
}
