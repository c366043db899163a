import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { open as openFile, readFile, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { AppError } from '@studiovault/common';
import { OffsiteTargetEntity, isUniqueViolation } from '@studiovault/catalog';
import { AppConfig, CONFIG, isSameOrInside } from '@studiovault/config';
import { ErrorCode, LockMode, TargetKind } from '@studiovault/contracts';
import {
  DiskTarget,
  PREFLIGHT_CHECKS,
  type PreflightReport,
  RetryingTarget,
  S3Target,
  Secret,
  type OffsiteTarget,
} from '@studiovault/offsite';
import { AllowedFoldersService } from '@studiovault/volumes';
import { CredentialsBox } from './credentials-box';

export interface TargetInput {
  name: string;
  kind: TargetKind;
  endpoint?: string | null;
  region?: string;
  bucket?: string;
  prefix?: string | null;
  pathStyle?: boolean;
  storageClass?: string | null;
  accessKeyId?: string;
  /** Stored encrypted. */
  secretAccessKey?: string;
  /** Or read from this file on the server each time it is needed (a Docker/Kubernetes secret). */
  secretAccessKeyFile?: string;
  path?: string;
  rotatesOffsite?: boolean;
  /** A disk target on a drive that is unplugged at times: away means waiting, not failing. */
  removable?: boolean;
  lockMode?: LockMode;
  immutable?: boolean;
  enabled?: boolean;
}

/** The non-secret settings kept in offsite_targets.settings. */
export interface TargetSettings {
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  pathStyle?: boolean;
  storageClass?: string;
  accessKeyIdHint?: string;
  secretAccessKeyFile?: string;
  path?: string;
}

interface StoredCredentials {
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface TestedTarget {
  target: OffsiteTargetEntity;
  /** Null when an edit did not touch the connection (rename, disable). */
  test: PreflightReport | null;
}

/** Checks that a target must pass to be saved: all of them for an immutable target, the lock ones aside otherwise. */
function requiredChecks(immutable: boolean): string[] {
  return PREFLIGHT_CHECKS.map((c) => c.id).filter((id) => immutable || (id !== 'objectLock' && id !== 'retention'));
}

/** The checks this target needs all passed (a target without lock does not need the lock checks). */
export function targetUsable(immutable: boolean, report: PreflightReport): boolean {
  const needed = requiredChecks(immutable);
  return report.checks.filter((c) => needed.includes(c.id)).every((c) => c.status === 'ok');
}

/** The identity marker StudioVault writes into a disk target's folder when the target is created. */
export const DRIVE_MARKER = '.studiovault-drive.json';

export interface DriveMarker {
  format: 'studiovault-drive';
  version: 1;
  targetId: string;
  name: string;
  uuid: string;
  createdAt: string;
}

function hint(accessKeyId: string): string {
  return accessKeyId.length <= 4 ? '…' : `…${accessKeyId.slice(-4)}`;
}

/**
 * Off-site targets: what the admin configures (settings, encrypted credentials, lock mode) and
 * the driver built from it. Adding or editing a target runs its preflight first, and a target
 * that fails a check it needs is not saved.
 */
@Injectable()
export class TargetsService {
  private box?: CredentialsBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly folders: AllowedFoldersService,
  ) {}

  private credentialsBox(): CredentialsBox {
    this.box ??= CredentialsBox.fromConfig(this.config.security.secretKey, this.config.dataDir);
    return this.box;
  }

  list(): Promise<OffsiteTargetEntity[]> {
    return this.db.getRepository(OffsiteTargetEntity).find({ order: { name: 'ASC' } });
  }

  async get(id: string): Promise<OffsiteTargetEntity> {
    const found = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.getRepository(OffsiteTargetEntity).findOne({ where: { id } }) : null;
    if (!found) throw new AppError(ErrorCode.TargetNotFound, `No off-site target with id ${id}`);
    return found;
  }

  async byName(name: string): Promise<OffsiteTargetEntity> {
    const found = await this.db
      .getRepository(OffsiteTargetEntity)
      .createQueryBuilder('t')
      .where('lower(t.name) = lower(:name)', { name })
      .getOne();
    if (!found) throw new AppError(ErrorCode.TargetNotFound, `No off-site target named "${name}"`);
    return found;
  }

  async create(input: TargetInput): Promise<TestedTarget> {
    return this.auditedFailure('target.create.failed', undefined, { name: input.name, kind: input.kind }, () => this.createChecked(input));
  }

  private async createChecked(input: TargetInput): Promise<TestedTarget> {
    const immutable = input.immutable ?? input.kind === TargetKind.S3;
    const entity = this.db.getRepository(OffsiteTargetEntity).create({
      name: input.name.trim(),
      kind: input.kind,
      lockMode: input.lockMode ?? LockMode.Governance,
      immutable,
      rotatesOffsite: input.kind === TargetKind.Disk ? (input.rotatesOffsite ?? false) : false,
      removable: input.kind === TargetKind.Disk ? (input.removable ?? false) : false,
      enabled: input.enabled ?? true,
    });
    await this.assertNameFree(entity.name);
    const { settings, credentials } = await this.settingsFrom(input, undefined);
    entity.settings = settings as Record<string, unknown>;
    const id = (await this.db.query(`SELECT gen_random_uuid() AS id`))[0].id as string;
    entity.id = id;
    entity.credentialsEncrypted = credentials ? this.credentialsBox().seal(credentials as Record<string, string>, id) : null;
    if (entity.kind === TargetKind.Disk) {
      await this.prepareDiskFolder(settings.path!, immutable);
      entity.markerUuid = await this.writeDriveMarker(entity);
      entity.lastSeenAt = new Date();
    }
    const test = await this.preflightOf(entity, credentials);
    this.assertUsable(entity, test);
    entity.lastTestAt = new Date();
    entity.lastTestOk = targetUsable(immutable, test);
    entity.lastTestReport = test;
    try {
      await this.db.getRepository(OffsiteTargetEntity).save(entity);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.TargetNameTaken, `A target named "${entity.name}" exists already`);
      throw err;
    }
    await this.audit.record(
      'target.create',
      { type: 'offsite_target', id },
      { name: entity.name, kind: entity.kind, ...this.publicSettings(settings) },
    );
    return { target: await this.get(id), test };
  }

  async update(id: string, input: Partial<TargetInput>): Promise<TestedTarget> {
    const current = await this.get(id);
    return this.auditedFailure(
      'target.update.failed',
      id,
      { name: current.name, changed: Object.keys(stripUndefined(input)).filter((k) => k !== 'secretAccessKey' && k !== 'accessKeyId') },
      () => this.updateChecked(current, input),
    );
  }

  private async updateChecked(current: OffsiteTargetEntity, input: Partial<TargetInput>): Promise<TestedTarget> {
    const id = current.id;
    if (input.kind && input.kind !== current.kind)
      throw new AppError(ErrorCode.ValidationFailed, 'A target cannot change its kind; add a new target instead', ['kind: cannot change']);
    // A stored secret goes only where it went before: a new endpoint, bucket or region needs the secret again.
    const before = current.settings as TargetSettings;
    const moved = (['endpoint', 'bucket', 'region'] as const).filter(
      (k) => input[k] !== undefined && (input[k] || undefined) !== (before[k] || undefined),
    );
    if (current.kind === TargetKind.S3 && moved.length && input.secretAccessKey === undefined && !input.secretAccessKeyFile)
      throw new AppError(
        ErrorCode.TargetSecretRequired,
        `Changing the ${moved.join(', ')} of target "${current.name}" needs its secret access key again (secretAccessKey or secretAccessKeyFile): a stored key is only sent where it was meant to go`,
        moved.map((k) => `${k}: changed; secretAccessKey: required`),
      );
    const oldCredentials = (await this.storedCredentials(current)) ?? undefined;
    const merged: TargetInput = { ...this.inputOf(current), ...stripUndefined(input), kind: current.kind };
    const { settings, credentials } = await this.settingsFrom(merged, oldCredentials);
    const next = this.db.getRepository(OffsiteTargetEntity).create({
      ...current,
      name: merged.name.trim(),
      lockMode: merged.lockMode ?? current.lockMode,
      immutable: merged.immutable ?? current.immutable,
      rotatesOffsite: current.kind === TargetKind.Disk ? (merged.rotatesOffsite ?? false) : false,
      removable: current.kind === TargetKind.Disk ? (merged.removable ?? false) : false,
      enabled: merged.enabled ?? current.enabled,
      settings: settings as Record<string, unknown>,
    });
    if (next.name.toLowerCase() !== current.name.toLowerCase()) await this.assertNameFree(next.name);
    let marker: { markerUuid: string; lastSeenAt: Date } | null = null;
    if (next.kind === TargetKind.Disk && settings.path !== (current.settings as TargetSettings).path) {
      await this.prepareDiskFolder(settings.path!, next.immutable);
      marker = { markerUuid: await this.writeDriveMarker(next), lastSeenAt: new Date() };
    }
    // Renaming or disabling a target changes nothing about the connection: no test (a target that is down disables at once).
    const connectionUnchanged = Object.keys(stripUndefined(input)).every(
      (k) => k === 'name' || (k === 'enabled' && input.enabled === false),
    );
    const test = connectionUnchanged ? null : await this.preflightOf(next, credentials);
    if (test && next.enabled) this.assertUsable(next, test);
    const encrypted = credentials ? this.credentialsBox().seal(credentials as Record<string, string>, id) : null;
    try {
      await this.db.getRepository(OffsiteTargetEntity).update(id, {
        name: next.name,
        lockMode: next.lockMode,
        immutable: next.immutable,
        rotatesOffsite: next.rotatesOffsite,
        removable: next.removable,
        enabled: next.enabled,
        settings: next.settings as never,
        ...(marker ?? {}),
        credentialsEncrypted: encrypted,
        ...(test ? { lastTestAt: new Date(), lastTestOk: targetUsable(next.immutable, test), lastTestReport: test } : {}),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.TargetNameTaken, `A target named "${next.name}" exists already`);
      throw err;
    }
    const changed = Object.keys(stripUndefined(input)).map((k) => (k === 'secretAccessKey' ? 'secretAccessKey (new value)' : k));
    await this.audit.record('target.update', { type: 'offsite_target', id }, { name: next.name, changed });
    return { target: await this.get(id), test };
  }

  async remove(id: string): Promise<void> {
    const target = await this.get(id);
    const [{ n }] = await this.db.query(`SELECT count(*)::int AS n FROM copies WHERE target_id = $1`, [id]);
    if (n > 0)
      throw new AppError(
        ErrorCode.Conflict,
        `Target "${target.name}" holds ${n} file cop${n === 1 ? 'y' : 'ies'}: disable it instead of deleting it`,
      );
    await this.db.query(`DELETE FROM backup_runs WHERE target_id = $1`, [id]);
    await this.db.getRepository(OffsiteTargetEntity).delete(id);
    await this.audit.record('target.delete', { type: 'offsite_target', id }, { name: target.name });
  }

  /** Runs the preflight of a saved target and records it. */
  async test(id: string): Promise<PreflightReport> {
    const target = await this.get(id);
    const test = await this.auditedFailure('target.test.failed', id, { name: target.name }, async () =>
      this.preflightOf(target, await this.storedCredentials(target)),
    );
    const ok = targetUsable(target.immutable, test);
    await this.db.getRepository(OffsiteTargetEntity).update(id, { lastTestAt: new Date(), lastTestOk: ok, lastTestReport: test });
    if (!ok)
      await this.audit.record('target.test.failed', { type: 'offsite_target', id }, { name: target.name, failed: failedChecks(test) });
    return test;
  }

  /** The driver of a saved target, with retries for transient errors. */
  async open(target: OffsiteTargetEntity): Promise<OffsiteTarget> {
    const credentials = await this.resolve(target, await this.storedCredentials(target));
    return new RetryingTarget(this.driver(target, credentials), { attempts: 6, maxDelayMs: 20_000 });
  }

  /** Stores (or clears, with null) the separate credential that expiry deletes with. */
  async setMaintenanceCredentials(id: string, creds: { accessKeyId: string; secretAccessKey: string } | null): Promise<void> {
    const target = await this.get(id);
    if (target.kind !== TargetKind.S3)
      throw new AppError(ErrorCode.ValidationFailed, 'Only S3 targets take a maintenance credential', ['kind: s3 only']);
    const box = creds ? this.credentialsBox().seal(creds, `${id}:maintenance`) : null;
    await this.db.query(`UPDATE offsite_targets SET maintenance_credentials_encrypted = $2, updated_at = now() WHERE id = $1`, [id, box]);
    await this.audit.record('target.maintenance_credential', { type: 'offsite_target', id }, { name: target.name, set: Boolean(creds) });
  }

  /** Targets that have a maintenance credential stored. */
  async withMaintenanceCredentials(): Promise<Set<string>> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM offsite_targets WHERE maintenance_credentials_encrypted IS NOT NULL`,
    );
    return new Set(rows.map((r) => r.id));
  }

  async hasMaintenanceCredentials(id: string): Promise<boolean> {
    const [row] = await this.db.query(`SELECT maintenance_credentials_encrypted IS NOT NULL AS has FROM offsite_targets WHERE id = $1`, [
      id,
    ]);
    return Boolean(row?.has);
  }

  /** The target opened with its maintenance credential (expiry only); never the nightly writer's. */
  async openMaintenance(target: OffsiteTargetEntity): Promise<OffsiteTarget> {
    if (target.kind === TargetKind.Disk) return this.open(target); // a folder has no credentials to separate
    const [row] = await this.db.query(`SELECT maintenance_credentials_encrypted AS box FROM offsite_targets WHERE id = $1`, [target.id]);
    if (!row?.box)
      throw new AppError(
        ErrorCode.TargetCredentialsUnavailable,
        `Target "${target.name}" has no maintenance credential: off-site versions are never deleted with the nightly writer's key`,
      );
    const creds = this.credentialsBox().open(row.box, `${target.id}:maintenance`) as StoredCredentials;
    return new RetryingTarget(this.driver(target, creds), { attempts: 4 });
  }

  /** Whether copies on this target count as off-site (an S3 bucket, or a drive that leaves the building). */
  static isOffsite(t: Pick<OffsiteTargetEntity, 'kind' | 'rotatesOffsite'>): boolean {
    return t.kind === TargetKind.S3 || t.rotatesOffsite;
  }

  /**
   * Whether a disk target's drive is there: its folder holds the identity marker written when the
   * target was created (a mount point without the drive, or another drive, does not). Null: not a
   * disk target, or one created before markers (its folder's target file is checked by the driver).
   */
  async drivePresent(t: OffsiteTargetEntity): Promise<boolean | null> {
    if (t.kind !== TargetKind.Disk || !t.markerUuid) return null;
    const path = (t.settings as TargetSettings).path!;
    try {
      const m = JSON.parse(await readFile(join(path, DRIVE_MARKER), 'utf8')) as Partial<DriveMarker>;
      return m.format === 'studiovault-drive' && m.uuid === t.markerUuid;
    } catch {
      return false;
    }
  }

  /** A disk target created before drive markers: its folder, still holding its target file, gets one now. */
  async adoptDriveMarker(t: OffsiteTargetEntity): Promise<boolean> {
    if (t.kind !== TargetKind.Disk || t.markerUuid) return false;
    const path = (t.settings as TargetSettings).path!;
    if (!(await stat(join(path, 'studiovault-target.json')).catch(() => null))) return false;
    const uuid = await this.writeDriveMarker(t);
    await this.db.getRepository(OffsiteTargetEntity).update(t.id, { markerUuid: uuid, lastSeenAt: new Date() });
    t.markerUuid = uuid;
    return true;
  }

  /** Writes the drive's identity marker durably (temp file, fsync, rename); returns its uuid. */
  private async writeDriveMarker(t: Pick<OffsiteTargetEntity, 'id' | 'name' | 'settings'>): Promise<string> {
    const path = (t.settings as TargetSettings).path!;
    const marker: DriveMarker = {
      format: 'studiovault-drive',
      version: 1,
      targetId: t.id,
      name: t.name,
      uuid: randomUUID(),
      createdAt: new Date().toISOString(),
    };
    const tmp = join(path, `${DRIVE_MARKER}.tmp-${process.pid}`);
    try {
      const fh = await openFile(tmp, 'w', 0o644);
      try {
        await fh.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(path, DRIVE_MARKER));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new AppError(
        ErrorCode.ValidationFailed,
        `Cannot write the drive marker into ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        ['path: not writable'],
      );
    }
    return marker.uuid;
  }

  /** Settings safe to show and log. */
  publicSettings(settings: TargetSettings): TargetSettings {
    const { endpoint, region, bucket, prefix, pathStyle, storageClass, accessKeyIdHint, secretAccessKeyFile, path } = settings;
    return stripUndefined({ endpoint, region, bucket, prefix, pathStyle, storageClass, accessKeyIdHint, secretAccessKeyFile, path });
  }

  // ---- internals ----

  private async assertNameFree(name: string): Promise<void> {
    const [{ n }] = await this.db.query(`SELECT count(*)::int AS n FROM offsite_targets WHERE lower(name) = lower($1)`, [name]);
    if (n > 0) throw new AppError(ErrorCode.TargetNameTaken, `A target named "${name}" exists already`);
  }

  private inputOf(t: OffsiteTargetEntity): TargetInput {
    const s = t.settings as TargetSettings;
    return {
      name: t.name,
      kind: t.kind,
      endpoint: s.endpoint,
      region: s.region,
      bucket: s.bucket,
      prefix: s.prefix,
      pathStyle: s.pathStyle,
      storageClass: s.storageClass,
      secretAccessKeyFile: s.secretAccessKeyFile,
      path: s.path,
      rotatesOffsite: t.rotatesOffsite,
      removable: t.removable,
      lockMode: t.lockMode,
      immutable: t.immutable,
      enabled: t.enabled,
    };
  }

  private async settingsFrom(
    input: TargetInput,
    previous: StoredCredentials | undefined,
  ): Promise<{ settings: TargetSettings; credentials: StoredCredentials | null }> {
    const problems: string[] = [];
    if (input.kind === TargetKind.Disk) {
      if (!input.path || !isAbsolute(input.path)) problems.push('path: an absolute folder on the server is required');
      if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'The disk target is incomplete', problems);
      // Only an existing folder under the disk-target roots, symlinks resolved (kept resolved).
      const folder = await this.folders.check('diskTarget', input.path!);
      return { settings: { path: folder.path }, credentials: null };
    }
    if (input.endpoint) {
      try {
        const url = new URL(input.endpoint);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('endpoint: must be an http(s) URL');
      } catch {
        problems.push('endpoint: must be an http(s) URL');
      }
    }
    if (!input.region) problems.push('region: required');
    if (!input.bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(input.bucket))
      problems.push('bucket: 3-63 lowercase letters, digits, dots, hyphens');
    const prefix = input.prefix ? input.prefix.replace(/^\/+/, '') : undefined;
    if (prefix && (prefix.split('/').includes('..') || prefix.includes('\0'))) problems.push('prefix: must not contain ".." or NUL');
    const accessKeyId = input.accessKeyId ?? previous?.accessKeyId;
    if (!accessKeyId) problems.push('accessKeyId: required');
    if (input.secretAccessKey !== undefined && input.secretAccessKeyFile)
      problems.push('secretAccessKey: give the key or a file, not both');
    const secretAccessKey = input.secretAccessKeyFile ? undefined : (input.secretAccessKey ?? previous?.secretAccessKey);
    if (!secretAccessKey && !input.secretAccessKeyFile) problems.push('secretAccessKey: required (or secretAccessKeyFile)');
    if (input.secretAccessKeyFile) {
      if (!isAbsolute(input.secretAccessKeyFile)) problems.push('secretAccessKeyFile: an absolute path on the server');
      else {
        const why = await this.keyFileProblem(input.secretAccessKeyFile);
        if (why) problems.push(`secretAccessKeyFile: ${why}`);
      }
    }
    if (problems.length) throw new AppError(ErrorCode.ValidationFailed, 'The S3 target is incomplete', problems);
    const settings: TargetSettings = stripUndefined({
      endpoint: input.endpoint || undefined,
      region: input.region,
      bucket: input.bucket,
      prefix: prefix ? (prefix.endsWith('/') ? prefix : `${prefix}/`) : undefined,
      pathStyle: input.pathStyle ?? Boolean(input.endpoint),
      storageClass: input.storageClass || undefined,
      accessKeyIdHint: hint(accessKeyId!),
      secretAccessKeyFile: input.secretAccessKeyFile || undefined,
    });
    return { settings, credentials: stripUndefined({ accessKeyId, secretAccessKey }) };
  }

  private async storedCredentials(t: OffsiteTargetEntity): Promise<StoredCredentials | null> {
    if (t.kind !== TargetKind.S3) return null;
    const row: { credentials_encrypted: Buffer | null }[] = await this.db.query(
      `SELECT credentials_encrypted FROM offsite_targets WHERE id = $1`,
      [t.id],
    );
    const box = row[0]?.credentials_encrypted;
    return box ? (this.credentialsBox().open(box, t.id) as StoredCredentials) : null;
  }

  private driver(t: OffsiteTargetEntity, credentials: StoredCredentials | null): OffsiteTarget {
    const s = t.settings as TargetSettings;
    if (t.kind === TargetKind.Disk) return new DiskTarget({ root: s.path!, rotatesOffsite: t.rotatesOffsite });
    return new S3Target({
      endpoint: s.endpoint,
      region: s.region!,
      bucket: s.bucket!,
      prefix: s.prefix,
      forcePathStyle: s.pathStyle,
      storageClass: s.storageClass,
      accessKeyId: credentials?.accessKeyId ?? '',
      secretAccessKey: new Secret(credentials?.secretAccessKey ?? ''),
    });
  }

  /** Stored credentials, with the secret read from its file when the target names one (at every use: rotation-friendly). */
  private async resolve(t: OffsiteTargetEntity, credentials: StoredCredentials | null): Promise<StoredCredentials | null> {
    const file = (t.settings as TargetSettings).secretAccessKeyFile;
    if (t.kind !== TargetKind.S3 || !file) return credentials;
    const why = await this.keyFileProblem(file);
    if (why) throw new AppError(ErrorCode.TargetCredentialsUnavailable, `Target "${t.name}": its secret key file ${why}`);
    let secret: string;
    try {
      secret = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new AppError(
        ErrorCode.TargetCredentialsUnavailable,
        `Target "${t.name}": cannot read its secret key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return { accessKeyId: credentials?.accessKeyId, secretAccessKey: secret };
  }

  private async preflightOf(t: OffsiteTargetEntity, credentials: StoredCredentials | null): Promise<PreflightReport> {
    const report = await this.driver(t, await this.resolve(t, credentials)).preflight();
    // The access key id is a credential too: the admin sees its last four characters only.
    const id = credentials?.accessKeyId;
    if (!id) return report;
    return { ...report, checks: report.checks.map((c) => ({ ...c, detail: c.detail.split(id).join(hint(id)) })) };
  }

  private assertUsable(t: OffsiteTargetEntity, test: PreflightReport): void {
    const needed = requiredChecks(t.immutable);
    const failed = test.checks.filter((c) => needed.includes(c.id) && c.status === 'failed');
    if (!failed.length) return;
    // A bucket without Object Lock also fails "versioning on": the lock is what the admin must fix.
    const first = failed.find((c) => c.id === 'objectLock') ?? failed[0];
    const why =
      first.id === 'objectLock'
        ? `${first.name}: ${first.detail}. An immutable target needs a bucket with Object Lock (create the bucket with Object Lock enabled, or save the target with immutable off)`
        : `${first.name}: ${first.detail}`;
    throw new AppError(
      ErrorCode.TargetPreflightFailed,
      `Target "${t.name}" failed its connection test: ${why}`,
      test.checks.map((c) => `${c.name}: ${c.status}${c.detail ? ` (${c.detail})` : ''}`),
    );
  }

  /** Why a secret key file may not be read (outside STUDIOVAULT_KEY_DIR, through a link out of it, unreadable), or null. */
  private async keyFileProblem(file: string): Promise<string | null> {
    const dir = await realpath(this.config.folders.keyDir).catch(() => resolve(this.config.folders.keyDir));
    const real = await realpath(file).catch(() => null);
    if (!isSameOrInside(dir, resolve(file)) || (real && !isSameOrInside(dir, real)))
      return `${file} is not in the key folder ${this.config.folders.keyDir} (STUDIOVAULT_KEY_DIR); key files are read only from there`;
    if (
      !real ||
      !(await readFile(real, 'utf8').then(
        () => true,
        () => false,
      ))
    )
      return `cannot read ${file} on the server`;
    return null;
  }

  /** Runs an admin's target change; a refusal is audited (who tried what, and why) before it is answered. */
  private async auditedFailure<T>(
    action: string,
    id: string | undefined,
    details: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const code = err instanceof AppError ? err.code : ErrorCode.Internal;
      const message = err instanceof AppError ? err.message : 'internal error';
      await this.audit
        .record(action, id ? { type: 'offsite_target', id } : undefined, { ...details, code, message: message.slice(0, 500) })
        .catch(() => undefined);
      throw err;
    }
  }

  /** A folder becomes a disk target once (its lock setting is fixed then), like creating a bucket. */
  private async prepareDiskFolder(path: string, objectLock: boolean): Promise<void> {
    const marker = await stat(`${path}/studiovault-target.json`).catch(() => null);
    if (marker) return;
    const entries = await readdir(path).catch((err: NodeJS.ErrnoException) => {
      throw new AppError(ErrorCode.ValidationFailed, `Cannot read ${path} on the server: ${err.code}`, [`path: ${err.code}`]);
    });
    if (entries.some((e) => !e.startsWith('.') && e !== 'lost+found'))
      throw new AppError(ErrorCode.ValidationFailed, `${path} is not empty and is not a StudioVault target: choose an empty folder`, [
        'path: not empty',
      ]);
    try {
      await DiskTarget.initialize(path, { objectLock });
    } catch (err) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        `Cannot prepare ${path} as a target: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        ['path: not writable'],
      );
    }
  }
}

function failedChecks(report: PreflightReport): string[] {
  return report.checks.filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`.slice(0, 300));
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
