/** Vocabulary of the catalog, shared by the server, the portal and the CLI. */

export enum ProjectType {
  Wedding = 'wedding',
  Portrait = 'portrait',
  Newborn = 'newborn',
  Family = 'family',
  Event = 'event',
  Commercial = 'commercial',
  Other = 'other',
}

export enum ProjectStatus {
  Active = 'active',
  Archived = 'archived',
}

export enum CardState {
  Announced = 'announced',
  Uploading = 'uploading',
  Copied = 'copied',
  Verifying = 'verifying',
  Verified = 'verified',
  AtRisk = 'at_risk',
}

/** Protection levels, in order; see DESIGN.md. `at_risk` overrides all of them. */
export enum ProtectionLevel {
  Uploading = 'uploading',
  Copied = 'copied',
  Verified = 'verified',
  Offsite = 'offsite',
  Immutable = 'immutable',
  Drilled = 'drilled',
  AtRisk = 'at_risk',
}

export enum FileClass {
  Raw = 'raw',
  Video = 'video',
  Image = 'image',
  Sidecar = 'sidecar',
  Catalog = 'catalog',
  Other = 'other',
}

/** What the ingest noticed about a file's name; the file is stored as given either way. */
export enum NameWarningCode {
  /** Another file of the card differs only in case: one would hide the other on macOS or Windows. */
  CaseTwin = 'CASE_TWIN',
  /** The name holds bidirectional controls: it shows differently from its bytes (a spoofing risk). */
  BidiControl = 'BIDI_CONTROL',
  /** The name the card gave was taken on the volume (by a version suffix): stored under another name. */
  StoredRenamed = 'STORED_RENAMED',
}

export interface NameWarning {
  code: NameWarningCode;
  message: string;
}

export enum CopyState {
  Pending = 'pending',
  Writing = 'writing',
  Written = 'written',
  Verified = 'verified',
  Mismatch = 'mismatch',
  Missing = 'missing',
  Uploading = 'uploading',
  Uploaded = 'uploaded',
  Immutable = 'immutable',
  Failed = 'failed',
}

export enum VolumeRole {
  Primary = 'primary',
  Mirror = 'mirror',
}

export enum VolumeState {
  Online = 'online',
  Offline = 'offline',
  Full = 'full',
}

export enum TargetKind {
  S3 = 's3',
  Disk = 'disk',
}

export enum LockMode {
  Governance = 'GOVERNANCE',
  Compliance = 'COMPLIANCE',
}

export enum RunState {
  Queued = 'queued',
  Running = 'running',
  Paused = 'paused',
  Completed = 'completed',
  Failed = 'failed',
}

export enum RunTrigger {
  Nightly = 'nightly',
  Ingest = 'ingest',
  Manual = 'manual',
  Schedule = 'schedule',
}

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const SLUG_MAX = 64;
export const NAME_MAX = 200;

/** A URL-safe slug from a project name: "Anna & Ben — Wedding" → "anna-ben-wedding". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
}

const CLASS_BY_EXTENSION: Record<string, FileClass> = Object.fromEntries([
  ...['cr2', 'cr3', 'crw', 'nef', 'nrw', 'arw', 'srf', 'sr2', 'raf', 'rw2', 'orf', 'dng', 'iiq', '3fr', 'pef', 'x3f'].map((e) => [
    e,
    FileClass.Raw,
  ]),
  ...['mov', 'mp4', 'mxf', 'braw', 'r3d', 'crm', 'avi', 'mts', 'm2ts', 'insv'].map((e) => [e, FileClass.Video]),
  ...['jpg', 'jpeg', 'heic', 'heif', 'hif', 'tif', 'tiff', 'png'].map((e) => [e, FileClass.Image]),
  ...['xmp', 'thm', 'xml'].map((e) => [e, FileClass.Sidecar]),
  ...['lrcat', 'lrdata', 'lrcat-data', 'cocatalog', 'cocatalogdb'].map((e) => [e, FileClass.Catalog]),
]);

/** The retention class of a file, by its extension. */
export function fileClassOf(path: string): FileClass {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return FileClass.Other;
  return CLASS_BY_EXTENSION[path.slice(dot + 1).toLowerCase()] ?? FileClass.Other;
}

/** What "safe to format" requires; an admin setting. */
export enum SafeToFormatRule {
  /** Two verified local copies on two devices, and the off-site upload started (default). */
  TwoLocalAndOffsiteStarted = 'two_local_and_offsite_started',
  /** Two verified local copies on two devices (studios without off-site). */
  TwoLocal = 'two_local',
}

export interface CardVerdict {
  safe: boolean;
  /** Why not (or "N files verified on two devices…" when safe). */
  reason: string;
}

/** What a read of a local copy found wrong (scrub, restore, drill, backup, the CLI). */
export enum DamageKind {
  /** The bytes differ from the source hash. */
  Mismatch = 'mismatch',
  Missing = 'missing',
  Short = 'short',
  Long = 'long',
  ReadError = 'read_error',
}

/** Who found a damaged copy. */
export enum FindingSource {
  Scrub = 'scrub',
  Verify = 'verify',
  Restore = 'restore',
  Drill = 'drill',
  Backup = 'backup',
  Cli = 'cli',
  Heal = 'heal',
}

/** What became of a finding: still open, healed, no good copy anywhere, or a re-read found the copy good. */
export enum FindingOutcome {
  Open = 'open',
  Healed = 'healed',
  NoGoodCopy = 'no_good_copy',
  NotConfirmed = 'not_confirmed',
}
