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
