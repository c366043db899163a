import { TargetWrapper } from '../target-wrapper';
import type { Body, MultipartOptions, OffsiteTarget, PartOptions, PutOptions, PutResult, Retention, UploadedPart } from '../target';

/** Counts calls per method (and records part numbers sent), for "was it re-sent?" assertions. */
export class CountingTarget extends TargetWrapper {
  readonly calls = new Map<string, number>();
  readonly partsSent: number[] = [];

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }
  private hit(method: string): void {
    this.calls.set(method, this.count(method) + 1);
  }
  override put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    this.hit('put');
    return super.put(key, body, options);
  }
  override head(key: string, versionId?: string) {
    this.hit('head');
    return super.head(key, versionId);
  }
  override getRetention(key: string, versionId: string) {
    this.hit('getRetention');
    return super.getRetention(key, versionId);
  }
  override putRetention(key: string, versionId: string, retention: Retention) {
    this.hit('putRetention');
    return super.putRetention(key, versionId, retention);
  }
  override createMultipart(key: string, options: MultipartOptions) {
    this.hit('createMultipart');
    return super.createMultipart(key, options);
  }
  override uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    this.hit('uploadPart');
    this.partsSent.push(partNumber);
    return super.uploadPart(key, uploadId, partNumber, body, options);
  }
  override listParts(key: string, uploadId: string) {
    this.hit('listParts');
    return super.listParts(key, uploadId);
  }
  override completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]) {
    this.hit('completeMultipart');
    return super.completeMultipart(key, uploadId, parts);
  }
}

/**
 * A provider that accepts lock and legal-hold headers on uploads and silently does not apply
 * them (RGW 16 does exactly this for CreateMultipartUpload). PutObjectRetention still works.
 */
export class LockHeadersIgnoredTarget extends TargetWrapper {
  override put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
    return super.put(key, body, { ...options, lock: undefined, legalHold: undefined });
  }
  override createMultipart(key: string, options: MultipartOptions) {
    return super.createMultipart(key, { ...options, lock: undefined, legalHold: undefined });
  }
}

/** A provider that answers PutObjectRetention with success and keeps nothing. */
export class RetentionIgnoredTarget extends LockHeadersIgnoredTarget {
  override async putRetention(): Promise<void> {}
}

/** Dies (like a killed process) when part number `failAt` is about to be sent. */
export class CrashingTarget extends TargetWrapper {
  constructor(
    inner: OffsiteTarget,
    private readonly failAt: number,
  ) {
    super(inner);
  }
  override uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart> {
    if (partNumber >= this.failAt) return Promise.reject(new Error(`simulated crash before part ${partNumber}`));
    return super.uploadPart(key, uploadId, partNumber, body, options);
  }
}
