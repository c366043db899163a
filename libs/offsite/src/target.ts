import type { Readable } from 'node:stream';

/**
 * An off-site target: where the third and fourth copies go (an S3-compatible bucket with
 * Object Lock, or a folder on a USB drive / second NAS share). Every driver implements this
 * one interface and passes the one contract suite (testing/contract-suite.ts). Retries and
 * test doubles are wrappers implementing the same interface (retrying.target.ts).
 *
 * The interface speaks in object versions: a write never replaces bytes, it adds a version,
 * and a version under retention cannot be deleted or have its retention shortened.
 */
export interface OffsiteTarget {
  /** What this target is and can do: the core never asks a driver for more than it declares. */
  readonly capabilities: TargetCapabilities;
  /** A short description for logs and errors: never contains credentials. */
  readonly description: string;

  /** Stores one object as a new version. Lock and legal hold are applied by the target if it supports them. */
  put(key: string, body: Body, options: PutOptions): Promise<PutResult>;
  /** Size, checksum metadata, retention and legal hold of a version (the latest when versionId is omitted). */
  head(key: string, versionId?: string): Promise<ObjectInfo>;
  /** The bytes of a version; `range` is inclusive at both ends, like HTTP's. */
  get(key: string, versionId?: string, range?: ByteRange): Promise<Readable>;
  /** Every version under a prefix: keys ascending, newest version first within a key. */
  list(prefix: string): AsyncIterable<ObjectVersion>;

  /** The retention of a version as the target reports it; null when it has none. */
  getRetention(key: string, versionId: string): Promise<Retention | null>;
  /** Sets or extends retention. Refuses (permanent error) to shorten it or to weaken COMPLIANCE. */
  putRetention(key: string, versionId: string, retention: Retention): Promise<void>;
  getLegalHold(key: string, versionId: string): Promise<boolean>;
  putLegalHold(key: string, versionId: string, on: boolean): Promise<void>;
  /**
   * Deletes one version. Only the maintenance credential ever calls this; the target refuses
   * (permanent error, code ObjectLocked) while a retention or a legal hold is in force.
   */
  deleteVersion(key: string, versionId: string, options?: { bypassGovernance?: boolean }): Promise<void>;

  /** Multipart upload: the upload id and finished parts survive a restart of StudioVault. */
  createMultipart(key: string, options: MultipartOptions): Promise<{ uploadId: string }>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions): Promise<UploadedPart>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Unfinished multipart uploads under a prefix (stale ones are aborted by the uploader). */
  listMultipartUploads(prefix: string): Promise<MultipartUpload[]>;

  /** The named checks an admin sees when adding or testing a target. Never throws for a failing check. */
  preflight(): Promise<PreflightReport>;
}

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface Retention {
  mode: LockMode;
  retainUntil: Date;
}

/** A file on disk (re-readable, so a retry can send it again), bytes in memory, or a one-shot stream. */
export type Body = Uint8Array | FileSlice | Readable;

export interface FileSlice {
  path: string;
  /** First byte (default 0). */
  offset?: number;
  /** Byte count (default: to the end of the file). */
  length?: number;
}

export interface PutOptions {
  /** Exact byte count; a body of another length is refused. */
  size: number;
  /** SHA-256 (hex) of the body: stored with the object (x-amz-meta-sha256) and checked on head. */
  sha256: string;
  /** MD5 of the body, base64 (Content-MD5). Required by S3 targets for locked uploads of streams. */
  contentMd5?: string;
  lock?: Retention;
  legalHold?: boolean;
  contentType?: string;
}

export interface MultipartOptions {
  /** Size and SHA-256 of the whole object: stored as metadata, checked on completion where the driver can. */
  size: number;
  sha256: string;
  lock?: Retention;
  legalHold?: boolean;
  contentType?: string;
}

export interface PartOptions {
  /** MD5 of the part, base64 (Content-MD5). */
  contentMd5: string;
}

export interface UploadedPart {
  partNumber: number;
  /** As the target reports it (S3: the part's MD5 in hex, quoted). */
  etag: string;
  size: number;
}

export interface MultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface PutResult {
  key: string;
  versionId: string;
  etag?: string;
  size: number;
  /** The SHA-256 stored with the object, when the target knows it without another request (head() always tells). */
  sha256?: string;
}

export interface ObjectInfo {
  key: string;
  versionId: string;
  size: number;
  lastModified: Date;
  etag?: string;
  /** The SHA-256 stored with the object; undefined when the object carries none. */
  sha256?: string;
  /** As reported with the object (S3: HEAD's x-amz-object-lock-* headers); use getRetention to be sure. */
  retention: Retention | null;
  legalHold: boolean;
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  size: number;
  lastModified: Date;
  isLatest: boolean;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface TargetCapabilities {
  kind: 's3' | 'disk';
  /** Versions are kept; a put never overwrites bytes. */
  versioning: boolean;
  /**
   * Who enforces retention: 'server' (S3 Object Lock: not even the account owner can delete a
   * COMPLIANCE version), 'emulated' (StudioVault's driver refuses; anyone with the disk can delete).
   */
  objectLock: 'server' | 'emulated' | 'none';
  multipart: boolean;
  /** Smallest part but the last, largest part, most parts. */
  minPartSize: number;
  maxPartSize: number;
  maxParts: number;
  /** The medium leaves the building (a rotated USB drive): counts as off-site only while away. */
  rotatesOffsite: boolean;
}

export const PREFLIGHT_CHECKS = [
  { id: 'reachable', name: 'reachable' },
  { id: 'credentials', name: 'credentials valid' },
  { id: 'bucket', name: 'bucket exists' },
  { id: 'versioning', name: 'versioning on' },
  { id: 'objectLock', name: 'Object Lock on' },
  { id: 'put', name: 'can put object' },
  { id: 'retention', name: 'can set retention' },
] as const;

export type PreflightCheckId = (typeof PREFLIGHT_CHECKS)[number]['id'];

export interface PreflightCheck {
  id: PreflightCheckId;
  name: string;
  /** 'skipped': not run because an earlier check failed. */
  status: 'ok' | 'failed' | 'skipped';
  ok: boolean;
  /** For the admin: why it failed, or what was found ("default retention: GOVERNANCE 30 days"). */
  detail: string;
  /** How a failure classifies: permanent failures are not retried by the uploader. */
  errorKind?: 'not-found' | 'permanent' | 'transient';
}

export interface PreflightReport {
  /** Usable for immutable backups: every check passed, Object Lock included. */
  ok: boolean;
  checks: PreflightCheck[];
  /** The bucket's default retention, when it has one. */
  defaultRetention?: { mode: LockMode; days: number };
}
