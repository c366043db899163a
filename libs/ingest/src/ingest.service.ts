import { chmod, copyFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import {
  AssetEntity,
  CardEntity,
  CopyEntity,
  isUniqueViolation,
  ProjectEntity,
  SettingEntity,
  StorageVolumeEntity,
  UploadEntity,
} from '@studiovault/catalog';
import { AppError, currentContext, fmtBytes } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import {
  CardState,
  CardVerdict,
  CopyState,
  ErrorCode,
  FileClass,
  fileClassOf,
  NameWarning,
  NameWarningCode,
  ProjectStatus,
  ProtectionLevel,
  SafeToFormatRule,
  VolumeRole,
  VolumeState,
} from '@studiovault/contracts';
import { plainRead, readFromDevice } from '@studiovault/hashing';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { VolumesService } from '@studiovault/volumes';
import {
  bidiControlsIn,
  cardFolder,
  caseKey,
  isHistoryPath,
  parseCardLabel,
  parseCardPath,
  parseHistoryPath,
  versionedPath,
  versionOf,
} from './card-paths';
import { cardVerdict } from './card-verdict';
import { StoreVolumes } from './dual-volume.store';
import { ExifReader } from './exif-reader';
import { VOLUME_FILE_MODE, VolumeFiles, VolumeOfflineError } from './volume-files';

export interface AnnounceCard {
  label: string;
  files?: number;
  bytes?: number;
  cameraMake?: string;
  cameraModel?: string;
  cameraSerial?: string;
}

export interface NewUpload {
  cardId: string;
  relativePath: unknown;
  size: number;
  modifiedTime?: Date;
  xxh64?: string;
  sha256?: string;
  /** `history`: a file of the card's existing ascmhl/ folder, kept beside the card's files. */
  kind?: string;
}

export type SealOutcome = 'stored' | 'duplicate' | 'twin' | 'version' | 'history';

export interface SealResult {
  assetId: string;
  outcome: SealOutcome;
  relativePath: string;
  storedPath: string;
  protection: ProtectionLevel;
  /** What the ingest noticed about the name (the file is stored either way). */
  warnings: NameWarning[];
}

export interface OfflineVolume {
  role: VolumeRole;
  rootPath: string;
  reason: string;
}

export interface CardStatus {
  card: CardEntity;
  /** Levels as they hold now: a file with a copy on an offline volume counts as "copied". */
  byLevel: Partial<Record<ProtectionLevel, number>>;
  uploadsInFlight: number;
  verdict: CardVerdict;
  sameDevice: boolean;
  /** Volumes offline now, with why (a card is never safe while one is). */
  offlineVolumes: OfflineVolume[];
  /** Files of the card with a copy on an offline volume: that copy is unreachable and does not count. */
  unreachable: number;
  /** What the ingest noticed about file names (case twins, bidi controls, renamed files): the first 100. */
  warnings: CardNameWarning[];
}

export interface CardNameWarning extends NameWarning {
  relativePath: string;
}

const LOCAL_VERIFIED = ['verified', 'offsite', 'immutable', 'drilled'];

const HEX16 = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SETTING_RULE = 'safe_to_format_rule';

/**
 * Card ingest: announce a card (space check), receive its files (tus, in DualVolumeStore),
 * seal each file against the client's hash, verify every copy from its device, and give
 * the card its fail-closed "safe to format" verdict.
 */
@Injectable()
export class IngestService {
  private readonly log = new Logger(IngestService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly volumes: VolumesService,
    private readonly queue: JobQueue,
    private readonly audit: AuditService,
    private readonly exif: ExifReader,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  // ---- volumes ---------------------------------------------------------------------------

  private async volumeRows(): Promise<{ primary?: StorageVolumeEntity; mirror?: StorageVolumeEntity }> {
    const rows = await this.volumes.list();
    return { primary: rows.find((v) => v.role === VolumeRole.Primary), mirror: rows.find((v) => v.role === VolumeRole.Mirror) };
  }

  /** A volume's files, with its identity (marker, device) checked before every write there. */
  volumeFiles(v: StorageVolumeEntity): VolumeFiles {
    return new VolumeFiles(v.role, v.rootPath, async () => {
      try {
        await this.volumes.assertWritable(v.id);
      } catch (err) {
        if (err instanceof AppError && err.code === ErrorCode.VolumeOffline) throw new VolumeOfflineError(v.role, err.message);
        throw err;
      }
    });
  }

  /** The volumes to write to now: the primary is required; an offline mirror is skipped (copied later). */
  async storeVolumes(): Promise<StoreVolumes> {
    const { primary, mirror } = await this.volumeRows();
    if (!primary || primary.state === VolumeState.Offline) {
      throw new AppError(
        ErrorCode.VolumeOffline,
        `The primary volume is offline${primary ? ` (${primary.offlineReason ?? primary.rootPath})` : ''}; check the NAS pool`,
        ['volume=primary'],
      );
    }
    return {
      primary: this.volumeFiles(primary),
      mirror: mirror && mirror.state !== VolumeState.Offline ? this.volumeFiles(mirror) : undefined,
    };
  }

  // ---- cards -----------------------------------------------------------------------------

  /**
   * Announces a card before its first byte: creates it (or returns the card with that label)
   * and refuses a card that does not fit on both volumes with the margin, naming the volume.
   */
  async announceCard(projectSlug: string, input: AnnounceCard): Promise<{ card: CardEntity; created: boolean }> {
    const label = parseCardLabel(input.label);
    // Each volume's marker and device, before the card is announced: a card never starts on a wrong disk.
    const checked = await this.volumes.check();
    const primaryRow = checked.find((v) => v.role === VolumeRole.Primary);
    if (!primaryRow || primaryRow.state === VolumeState.Offline) {
      throw new AppError(
        ErrorCode.VolumeOffline,
        `The primary volume is offline${primaryRow ? `: ${primaryRow.offlineReason ?? primaryRow.rootPath}` : ''}; no card can start`,
        ['volume=primary'],
      );
    }
    const project = await this.db.getRepository(ProjectEntity).findOne({ where: { slug: projectSlug } });
    if (!project) throw new AppError(ErrorCode.NotFound, `No project with slug "${projectSlug}"`);
    if (project.status === ProjectStatus.Archived) throw new AppError(ErrorCode.ProjectArchived, `Project "${projectSlug}" is archived`);
    const cards = this.db.getRepository(CardEntity);
    const existing = await cards.findOne({ where: { projectId: project.id, label } });
    const alreadyStored = existing ? Number(existing.totalBytes) : 0;
    if (input.bytes !== undefined) await this.checkSpace(Math.max(0, input.bytes - alreadyStored));
    if (existing) {
      if (input.files !== undefined || input.bytes !== undefined) {
        await cards.update(existing.id, {
          announcedFiles: input.files ?? existing.announcedFiles,
          announcedBytes: input.bytes !== undefined ? String(input.bytes) : existing.announcedBytes,
        });
      }
      return { card: (await cards.findOne({ where: { id: existing.id } }))!, created: false };
    }
    const row = cards.create({
      projectId: project.id,
      label,
      state: CardState.Announced,
      announcedFiles: input.files ?? null,
      announcedBytes: input.bytes !== undefined ? String(input.bytes) : null,
      cameraMake: input.cameraMake ?? null,
      cameraModel: input.cameraModel ?? null,
      cameraSerial: input.cameraSerial ?? null,
      createdBy: currentContext().actor?.userId ?? null,
    });
    try {
      await cards.insert(row);
    } catch (err) {
      if (isUniqueViolation(err, 'cards_project_label_key')) return this.announceCard(projectSlug, input);
      throw err;
    }
    await this.audit.record(
      'card.announce',
      { type: 'card', id: row.id },
      { project: projectSlug, label, files: input.files, bytes: input.bytes },
    );
    return { card: (await cards.findOne({ where: { id: row.id } }))!, created: true };
  }

  /** Refuses `bytes` more on a volume that lacks them plus the margin. */
  async checkSpace(bytes: number): Promise<void> {
    const checked = await this.volumes.check();
    const margin = this.config.volumes.spaceMarginBytes;
    for (const v of checked) {
      if (v.state === VolumeState.Offline) continue; // an offline mirror is filled later, by the repair job
      const free = Number(v.freeBytes ?? 0);
      if (free < bytes + margin) {
        const missing = bytes + margin - free;
        throw new AppError(
          ErrorCode.InsufficientStorage,
          `The card does not fit on the ${v.role} volume (${v.rootPath}): ${fmtBytes(missing)} missing ` +
            `(${fmtBytes(bytes)} needed + ${fmtBytes(margin)} margin, ${fmtBytes(free)} free)`,
          [`volume=${v.role}`, `missingBytes=${missing}`],
        );
      }
    }
  }

  async assetExists(assetId: string): Promise<boolean> {
    return (await this.db.getRepository(AssetEntity).count({ where: { id: assetId } })) > 0;
  }

  async getCard(cardId: string): Promise<CardEntity> {
    const card = UUID.test(cardId) ? await this.db.getRepository(CardEntity).findOne({ where: { id: cardId } }) : null;
    if (!card) throw new AppError(ErrorCode.CardNotFound, 'No such card');
    return card;
  }

  async cardsOfProject(projectSlug: string): Promise<CardStatus[]> {
    const project = await this.db.getRepository(ProjectEntity).findOne({ where: { slug: projectSlug } });
    if (!project) throw new AppError(ErrorCode.NotFound, `No project with slug "${projectSlug}"`);
    const cards = await this.db.getRepository(CardEntity).find({ where: { projectId: project.id }, order: { createdAt: 'ASC' } });
    return Promise.all(cards.map((c) => this.cardStatus(c.id)));
  }

  /** A card's protection counts and its verdict. Twins count with their original's level. */
  async cardStatus(cardId: string): Promise<CardStatus> {
    const card = await this.getCard(cardId);
    // A copy on an offline volume is unreachable: its file keeps no two-device level while it is.
    const levels: { protection: ProtectionLevel; unreachable: boolean; n: number }[] = await this.db.query(
      `SELECT CASE WHEN x.unreachable AND x.protection = ANY($2) THEN 'copied' ELSE x.protection END AS protection,
              x.unreachable, count(*)::int AS n
         FROM (SELECT coalesce(o.protection, a.protection) AS protection,
                      EXISTS (SELECT 1 FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
                               WHERE c.asset_id = coalesce(a.duplicate_of_asset_id, a.id) AND v.state = 'offline' AND c.state <> 'missing') AS unreachable
                 FROM assets a LEFT JOIN assets o ON o.id = a.duplicate_of_asset_id
                WHERE a.card_id = $1) x
        GROUP BY 1, 2`,
      [cardId, LOCAL_VERIFIED],
    );
    const byLevel: Partial<Record<ProtectionLevel, number>> = {};
    for (const l of levels) byLevel[l.protection] = (byLevel[l.protection] ?? 0) + l.n;
    const unreachable = levels.filter((l) => l.unreachable).reduce((a, l) => a + l.n, 0);
    // Uploads still arriving; not one that a later file of its path has overtaken (a stale row).
    const [{ n: uploadsInFlight }] = await this.db.query(
      `SELECT count(*)::int AS n FROM uploads u
        WHERE u.card_id = $1 AND u.state IN ('receiving','received')
          AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.card_id = u.card_id AND a.relative_path_nfc = u.relative_path_nfc
                                                 AND a.created_at > u.created_at)`,
      [cardId],
    );
    const { primary, mirror } = await this.volumeRows();
    const sameDevice = Boolean(primary?.sameDevice || mirror?.sameDevice);
    const override = Boolean(primary?.sameDeviceOverride && mirror?.sameDeviceOverride);
    const offlineVolumes: OfflineVolume[] = [primary, mirror]
      .filter((v): v is StorageVolumeEntity => !!v && v.state === VolumeState.Offline)
      .map((v) => ({ role: v.role, rootPath: v.rootPath, reason: v.offlineReason ?? `not reachable at ${v.rootPath}` }));
    // Only targets that leave the building count: an S3 bucket, or a drive the admin rotates off-site.
    const [{ n: targets }] = await this.db.query(
      `SELECT count(*)::int AS n FROM offsite_targets WHERE enabled AND (kind = 's3' OR rotates_offsite)`,
    );
    const [{ n: offsiteStarted }] = await this.db.query(
      `SELECT count(DISTINCT a.id)::int AS n FROM assets a
         JOIN copies c ON c.asset_id = coalesce(a.duplicate_of_asset_id, a.id) AND c.target_id IS NOT NULL
         JOIN offsite_targets t ON t.id = c.target_id AND t.enabled AND (t.kind = 's3' OR t.rotates_offsite)
        WHERE a.card_id = $1 AND c.state IN ('uploading','uploaded','immutable')`,
      [cardId],
    );
    const verdict = cardVerdict({
      rule: await this.safeToFormatRule(),
      announcedFiles: card.announcedFiles,
      byLevel,
      uploadsInFlight,
      sameDevice,
      sameDeviceOverride: override,
      sealed: card.state === CardState.Verified,
      offsiteTargets: targets,
      offsiteStarted,
      offlineVolumes,
      unreachable,
    });
    const warned: { relative_path: string; name_warnings: NameWarning[] }[] = await this.db.query(
      `SELECT relative_path, name_warnings FROM assets WHERE card_id = $1 AND name_warnings <> '[]'::jsonb ORDER BY relative_path_nfc, id LIMIT 100`,
      [cardId],
    );
    const warnings = warned.flatMap((w) => w.name_warnings.map((n) => ({ relativePath: w.relative_path, ...n })));
    return { card, byLevel, uploadsInFlight, verdict, sameDevice, offlineVolumes, unreachable, warnings };
  }

  async safeToFormatRule(): Promise<SafeToFormatRule> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SETTING_RULE } });
    const v = row?.value;
    return v === SafeToFormatRule.TwoLocal ? SafeToFormatRule.TwoLocal : SafeToFormatRule.TwoLocalAndOffsiteStarted;
  }

  async setSafeToFormatRule(rule: SafeToFormatRule): Promise<void> {
    await this.db.getRepository(SettingEntity).upsert({ key: SETTING_RULE, value: rule }, ['key']);
    await this.audit.record('settings.safe_to_format_rule', undefined, { rule });
  }

  // ---- uploads ---------------------------------------------------------------------------

  /** Validates a new tus upload's metadata and records it; the store then creates the staging files. */
  async createUpload(uploadId: string, input: NewUpload): Promise<UploadEntity> {
    // The metadata is the client's text: checked before it reaches a query.
    if (!input.cardId) throw new AppError(ErrorCode.ValidationFailed, 'cardId is required in Upload-Metadata', ['cardId']);
    if (!UUID.test(input.cardId)) throw new AppError(ErrorCode.ValidationFailed, 'cardId must be a UUID', ['cardId']);
    const card = await this.getCard(input.cardId);
    const project = await this.db.getRepository(ProjectEntity).findOne({ where: { id: card.projectId } });
    if (project?.status === ProjectStatus.Archived)
      throw new AppError(ErrorCode.ProjectArchived, `Project "${project.slug}" is archived: its cards take no new files`);
    if (input.kind !== undefined && input.kind !== 'history' && input.kind !== 'file') {
      throw new AppError(ErrorCode.ValidationFailed, 'kind must be "file" or "history"', ['kind']);
    }
    const path = input.kind === 'history' ? parseHistoryPath(input.relativePath) : parseCardPath(input.relativePath);
    if (input.kind === 'history' && input.size > 256 * 1024 * 1024)
      throw new AppError(ErrorCode.ValidationFailed, 'an ASC MHL file over 256 MiB is not plausible', ['size']);
    if (!Number.isSafeInteger(input.size) || input.size < 0) {
      throw new AppError(ErrorCode.ValidationFailed, 'Upload-Length must be given (deferred length is not supported)', ['size']);
    }
    if (input.xxh64 !== undefined && !HEX16.test(input.xxh64))
      throw new AppError(ErrorCode.ValidationFailed, 'xxh64 must be 16 lowercase hex digits', ['xxh64']);
    if (input.sha256 !== undefined && !HEX64.test(input.sha256))
      throw new AppError(ErrorCode.ValidationFailed, 'sha256 must be 64 lowercase hex digits', ['sha256']);
    if (input.modifiedTime && Number.isNaN(input.modifiedTime.getTime()))
      throw new AppError(ErrorCode.ValidationFailed, 'mtime is not a date', ['mtime']);
    const year = input.modifiedTime?.getUTCFullYear();
    if (year !== undefined && (year < 1 || year > 9999))
      throw new AppError(ErrorCode.ValidationFailed, 'mtime must be a date from year 1 to 9999', ['mtime']);
    // Two names on one card that are the same after Unicode normalization are one file name.
    const clash = await this.db.query(
      `SELECT relative_path FROM uploads WHERE card_id = $1 AND relative_path_nfc = $2 AND relative_path <> $3 AND state IN ('receiving','received')
       UNION ALL
       SELECT relative_path FROM assets WHERE card_id = $1 AND relative_path_nfc = $2 AND relative_path <> $3
       LIMIT 1`,
      [card.id, path.nfc, path.given],
    );
    if (clash.length) {
      throw new AppError(
        ErrorCode.PathCollision,
        `"${path.given}" is the same name as "${clash[0].relative_path}" after Unicode normalization`,
      );
    }
    await this.checkUploadSpace(input.size);
    // The client starts over on this path: an earlier upload of it still receiving (created as a
    // server crashed, its address never reached the client, or the client's state is gone) will
    // not be finished. It is superseded, so it no longer counts as "still uploading"; its staged
    // bytes go with the orphan sweep.
    const updated: [{ id: string }[], number] = await this.db.query(
      `UPDATE uploads SET state = 'aborted', error = $3, updated_at = now()
        WHERE card_id = $1 AND relative_path_nfc = $2 AND state = 'receiving' RETURNING id`,
      [card.id, path.nfc, `superseded by upload ${uploadId}`],
    );
    const superseded = updated[0];
    if (superseded.length) this.log.log(`upload of "${path.given}": superseded ${superseded.map((u) => u.id).join(', ')}`);
    const repo = this.db.getRepository(UploadEntity);
    const row = repo.create({
      id: uploadId,
      cardId: card.id,
      relativePath: path.given,
      relativePathNfc: path.nfc,
      size: String(input.size),
      modifiedTime: input.modifiedTime ?? null,
      clientXxh64: input.xxh64 ?? null,
      clientSha256: input.sha256 ?? null,
      state: 'receiving',
      mirrorState: 'writing',
      createdBy: currentContext().actor?.userId ?? null,
    });
    await repo.insert(row);
    if (card.state === CardState.Announced) await this.db.getRepository(CardEntity).update(card.id, { state: CardState.Uploading });
    return row;
  }

  /**
   * Refuses an upload whose declared length (tus Upload-Length), with what the uploads still
   * receiving have yet to send and the margin, is more than a volume has free: before anything
   * is created, rather than a disk filling halfway through a 100 GB clip.
   */
  private async checkUploadSpace(size: number): Promise<void> {
    const vols = await this.storeVolumes();
    // Uploads of the last day still receiving: the bytes they declared and have not sent yet.
    const receiving: { id: string; size: string }[] = await this.db.query(
      `SELECT id, size::text FROM uploads WHERE state = 'receiving' AND created_at > now() - interval '1 day' ORDER BY created_at DESC LIMIT 200`,
    );
    let pending = 0;
    for (const u of receiving) pending += Math.max(0, Number(u.size) - ((await vols.primary.partSize(u.id)) ?? 0));
    const margin = this.config.volumes.spaceMarginBytes;
    for (const v of [vols.primary, vols.mirror]) {
      if (!v) continue; // an offline mirror is filled later, by the repair job
      const free = await this.volumes.freeBytes(v.root).catch(() => null);
      if (free === null) continue; // gone since the last check: the write reports it, naming the volume
      const needed = size + pending + margin;
      if (free < needed) {
        throw new AppError(
          ErrorCode.InsufficientStorage,
          `The ${v.role} volume (${v.root}) has ${fmtBytes(free)} free; this file needs ${fmtBytes(size)}` +
            `${pending ? ` + ${fmtBytes(pending)} still to come of uploads in progress` : ''} + ${fmtBytes(margin)} margin: ` +
            `${fmtBytes(needed - free)} missing. Nothing was created.`,
          [
            `volume=${v.role}`,
            `freeBytes=${free}`,
            `neededBytes=${needed}`,
            `fileBytes=${size}`,
            `pendingBytes=${pending}`,
            `marginBytes=${margin}`,
          ],
        );
      }
    }
  }

  async getUpload(uploadId: string): Promise<UploadEntity> {
    const row = await this.db.getRepository(UploadEntity).findOne({ where: { id: uploadId } });
    if (!row) throw new AppError(ErrorCode.UploadNotFound, 'No such upload');
    return row;
  }

  /** The store calls this when the last byte is in: seal now if the client gave its hashes at creation. */
  async onReceived(upload: UploadEntity): Promise<void> {
    if (upload.clientXxh64 && upload.clientSha256) await this.seal(upload.id, { xxh64: upload.clientXxh64, sha256: upload.clientSha256 });
  }

  /**
   * Seals a received file: compares the client's source hashes with what the server hashed
   * as it wrote, then gives the file its final name on both volumes (never overwriting),
   * records the asset and its copies, and queues the read-back verification.
   */
  async seal(uploadId: string, client: { xxh64: string; sha256: string }): Promise<SealResult> {
    if (!HEX16.test(client.xxh64 ?? '') || !HEX64.test(client.sha256 ?? '')) {
      throw new AppError(ErrorCode.ValidationFailed, 'the client hashes are required: xxh64 (16 hex digits) and sha256 (64 hex digits)', [
        'xxh64',
        'sha256',
      ]);
    }
    const upload = await this.getUpload(uploadId);
    if (upload.state === 'sealed') return this.sealedResult(upload);
    if (upload.state === 'receiving')
      throw new AppError(ErrorCode.UploadIncomplete, `"${upload.relativePath}" is not complete yet; resume the upload first`);
    if (upload.state !== 'received')
      throw new AppError(ErrorCode.UploadNotFound, `This upload ended (${upload.state}); upload the file again`);
    const vols = await this.storeVolumes();
    if (upload.serverXxh64 !== client.xxh64 || upload.serverSha256 !== client.sha256) {
      await this.db.getRepository(UploadEntity).update(uploadId, {
        state: 'mismatch',
        clientXxh64: client.xxh64,
        clientSha256: client.sha256,
        error: 'client and server hashes differ',
      });
      await vols.primary.removePart(uploadId);
      await vols.mirror?.removePart(uploadId);
      throw new AppError(
        ErrorCode.ChecksumMismatch,
        `"${upload.relativePath}" arrived different from the card: the card says xxh64 ${client.xxh64}, the server received ${upload.serverXxh64}. Nothing was stored; upload it again.`,
        [
          `client.xxh64=${client.xxh64}`,
          `server.xxh64=${upload.serverXxh64}`,
          `client.sha256=${client.sha256}`,
          `server.sha256=${upload.serverSha256}`,
        ],
      );
    }
    const card = await this.getCard(upload.cardId);
    const project = (await this.db.getRepository(ProjectEntity).findOne({ where: { id: card.projectId } }))!;
    const folder = cardFolder(projectYear(project, card), project.slug, card.label);
    const { primary: pRow, mirror: mRow } = await this.volumeRows();
    if (isHistoryPath(upload.relativePathNfc)) return this.sealHistory(upload, client, `${folder}/${upload.relativePath}`, vols);

    const result = await this.db.transaction(async (em): Promise<SealResult> => {
      // One seal per name of a card at a time, compared as a case-insensitive file system would
      // (its version number, "identical", a case twin, the name on disk); other files of the card
      // seal in parallel (a lock on the card made every seal of a 200-file card wait for the
      // previous one's two directory fsyncs).
      const key = caseKey(upload.relativePathNfc);
      await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('studiovault:seal:' || $1 || '/' || $2, 0))`, [card.id, key]);
      const same: AssetEntity[] = await em.find(AssetEntity, {
        where: { cardId: card.id, relativePathNfc: upload.relativePathNfc },
        order: { version: 'ASC' },
      });
      const identical = same.find((a) => a.sha256 === client.sha256 && a.size === upload.size);
      if (identical) {
        // Re-ingest of the same file: nothing new to store.
        await vols.primary.removePart(uploadId);
        await vols.mirror?.removePart(uploadId);
        await em.update(UploadEntity, uploadId, {
          state: 'sealed',
          assetId: identical.id,
          outcome: 'duplicate',
          clientXxh64: client.xxh64,
          clientSha256: client.sha256,
        });
        return {
          assetId: identical.id,
          outcome: 'duplicate',
          relativePath: identical.relativePath,
          storedPath: identical.storedPath ?? '',
          protection: identical.protection,
          warnings: identical.nameWarnings,
        };
      }
      // The mirror slot of a dual-slot camera: the same file at the same path on another card of the project.
      const twin: AssetEntity | null = await em
        .createQueryBuilder(AssetEntity, 'a')
        .where('a.project_id = :p AND a.card_id <> :c AND a.relative_path_nfc = :path AND a.sha256 = :sha AND a.size = :size', {
          p: project.id,
          c: card.id,
          path: upload.relativePathNfc,
          sha: client.sha256,
          size: upload.size,
        })
        .andWhere('a.duplicate_of_asset_id IS NULL')
        .getOne();
      const warnings: NameWarning[] = [];
      const bidi = bidiControlsIn(upload.relativePath);
      if (bidi.length) {
        warnings.push({
          code: NameWarningCode.BidiControl,
          message: `the name holds bidirectional control character(s) ${bidi.join(', ')}: it shows differently from its bytes; stored as given`,
        });
      }
      const caseTwins: { id: string; relative_path: string }[] = await em.query(
        `SELECT id::text, relative_path FROM assets WHERE card_id = $1 AND case_key = lower($2) AND relative_path_nfc <> $2 ORDER BY id`,
        [card.id, upload.relativePathNfc],
      );
      if (caseTwins.length) {
        warnings.push(caseTwinWarning(caseTwins[0].relative_path));
        await em.query(
          `UPDATE assets SET name_warnings = name_warnings || $2::jsonb WHERE id = ANY($1::bigint[]) AND NOT name_warnings @> '[{"code":"CASE_TWIN"}]'`,
          [caseTwins.map((c) => c.id), JSON.stringify([caseTwinWarning(upload.relativePath)])],
        );
      }
      let version = same.length ? Math.max(...same.map((a) => a.version)) + 1 : 1;
      let storedPath: string;
      let outcome: SealOutcome;
      let mirrorOffline = false;
      if (twin) {
        storedPath = twin.storedPath!;
        outcome = 'twin';
        await vols.primary.removePart(uploadId);
        await vols.mirror?.removePart(uploadId);
      } else {
        // The next ~vN name no other file of the card holds (a card may bring a file named IMG~v2.JPG itself).
        while (await this.storedNameTaken(em, card.id, versionedPath(upload.relativePathNfc, version))) version++;
        // The name as the card gave it, byte for byte (macOS: NFD); the ASC MHL records the same bytes.
        storedPath = `${folder}/${versionedPath(upload.relativePath, version)}`;
        outcome = same.length ? 'version' : 'stored';
        if (!same.length && version > 1) {
          warnings.push({
            code: NameWarningCode.StoredRenamed,
            message: `stored as ${posix.basename(storedPath)}: the name ${posix.basename(upload.relativePath)} is taken on the volumes by a version of another file`,
          });
        }
        // Both volumes at once (each promote waits for its disk's journal twice). A leftover of
        // an interrupted seal may hold the name: never overwrite, compare instead.
        const promoted = await Promise.allSettled(
          [vols.primary, vols.mirror].map(async (v) => {
            if (!v || (await v.partSize(uploadId)) === null) return;
            let made: 'created' | 'exists';
            try {
              made = await v.promote(uploadId, storedPath);
            } catch (err) {
              // The mirror went offline since the upload began: its copy is missing, repaired when it returns.
              if (v === vols.mirror && err instanceof VolumeOfflineError) {
                mirrorOffline = true;
                return;
              }
              throw err;
            }
            if (made === 'exists') {
              const there = await plainRead(v.finalPath(storedPath), ['sha256']);
              if (there.hashes.sha256 !== client.sha256) {
                throw new AppError(
                  ErrorCode.Conflict,
                  `${v.role} volume: ${storedPath} exists with other content and is not in the catalog; an admin must look at it`,
                );
              }
              await v.removePart(uploadId);
            }
          }),
        );
        for (const r of promoted) if (r.status === 'rejected') throw r.reason;
      }
      const asset = em.create(AssetEntity, {
        cardId: card.id,
        projectId: project.id,
        relativePath: upload.relativePath,
        relativePathNfc: upload.relativePathNfc,
        version,
        storedPath,
        nameWarnings: warnings,
        size: upload.size,
        fileClass: fileClassOf(upload.relativePathNfc),
        modifiedTime: upload.modifiedTime,
        xxh64: client.xxh64,
        sha256: client.sha256,
        protection: twin ? twin.protection : ProtectionLevel.Copied,
        protectionReason: twin ? `identical to ${twin.relativePath} on another card` : null,
        duplicateOfAssetId: twin?.id ?? null,
      });
      await em.insert(AssetEntity, asset);
      if (!twin) {
        const copies: Partial<CopyEntity>[] = [];
        if (pRow) copies.push({ assetId: asset.id, volumeId: pRow.id, state: CopyState.Written, location: storedPath });
        if (mRow)
          copies.push({
            assetId: asset.id,
            volumeId: mRow.id,
            state: vols.mirror && upload.mirrorState === 'writing' && !mirrorOffline ? CopyState.Written : CopyState.Missing,
            location: storedPath,
          });
        await em.insert(CopyEntity, copies);
      }
      await em.query(
        `UPDATE cards SET file_count = file_count + 1, total_bytes = total_bytes + $2,
           state = CASE WHEN state IN ('announced','uploading') THEN 'copied' ELSE state END, updated_at = now() WHERE id = $1`,
        [card.id, upload.size],
      );
      await em.update(UploadEntity, uploadId, {
        state: 'sealed',
        assetId: asset.id,
        outcome,
        clientXxh64: client.xxh64,
        clientSha256: client.sha256,
      });
      return { assetId: asset.id, outcome, relativePath: upload.relativePath, storedPath, protection: asset.protection, warnings };
    });
    // After the commit, so the worker finds the asset.
    if (result.outcome === 'stored' || result.outcome === 'version')
      await this.queue.send(JobName.AssetsVerify, { assetId: result.assetId });
    else await this.afterAssetChange(card.id);
    return result;
  }

  /**
   * A file of the card's own ASC MHL history goes into the card folder's ascmhl/ on both
   * volumes, where the seal job verifies the files against it and continues it. An existing
   * chain file is StudioVault's continuation of the card's: it is kept, never replaced.
   */
  private async sealHistory(
    upload: UploadEntity,
    client: { xxh64: string; sha256: string },
    storedPath: string,
    vols: StoreVolumes,
  ): Promise<SealResult> {
    for (const v of [vols.primary, vols.mirror]) {
      if (!v || (await v.partSize(upload.id)) === null) continue;
      let made: 'created' | 'exists';
      try {
        made = await v.promote(upload.id, storedPath);
      } catch (err) {
        if (v === vols.mirror && err instanceof VolumeOfflineError) continue; // the card's seal is written there when it returns
        throw err;
      }
      if (made === 'exists') {
        const there = await plainRead(v.finalPath(storedPath), ['sha256']);
        if (there.hashes.sha256 !== client.sha256 && !storedPath.endsWith('/ascmhl_chain.xml')) {
          throw new AppError(
            ErrorCode.Conflict,
            `${v.role} volume: ${storedPath} exists with other content; a generation file is never replaced`,
          );
        }
        await v.removePart(upload.id);
      }
    }
    await this.db
      .getRepository(UploadEntity)
      .update(upload.id, { state: 'sealed', outcome: 'history', clientXxh64: client.xxh64, clientSha256: client.sha256 });
    return {
      assetId: '',
      outcome: 'history',
      relativePath: upload.relativePath,
      storedPath,
      protection: ProtectionLevel.Copied,
      warnings: [],
    };
  }

  /**
   * Whether a file of the card is stored under this name (NFC, relative to the card folder):
   * under its own name (version 1), or as a version of another name (`IMG~v2.JPG` is version 2
   * of `IMG.JPG`).
   */
  private async storedNameTaken(em: EntityManager, cardId: string, nfcName: string): Promise<boolean> {
    // A seal of another name may pick the same one: one holder of a name at a time.
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('studiovault:name:' || $1 || '/' || $2, 0))`, [cardId, nfcName]);
    const of = versionOf(nfcName);
    const [taken] = await em.query(
      `SELECT 1 FROM assets WHERE card_id = $1 AND duplicate_of_asset_id IS NULL
          AND ((relative_path_nfc = $2 AND version = 1) OR (relative_path_nfc = $3 AND version = $4)) LIMIT 1`,
      [cardId, nfcName, of?.path ?? nfcName, of?.version ?? 1],
    );
    return Boolean(taken);
  }

  private async sealedResult(upload: UploadEntity): Promise<SealResult> {
    if (!upload.assetId)
      return {
        assetId: '',
        outcome: 'history',
        relativePath: upload.relativePath,
        storedPath: '',
        protection: ProtectionLevel.Copied,
        warnings: [],
      };
    const a = (await this.db.getRepository(AssetEntity).findOne({ where: { id: upload.assetId! } }))!;
    return {
      assetId: a.id,
      outcome: upload.outcome ?? 'duplicate',
      relativePath: a.relativePath,
      storedPath: a.storedPath ?? '',
      protection: a.protection,
      warnings: a.nameWarnings,
    };
  }

  // ---- verification ----------------------------------------------------------------------

  /**
   * Re-reads every local copy of an asset from its device (O_DIRECT; a plain read where the
   * file system refuses it, recorded) and compares it with the source hash from the card.
   */
  @OnJob(JobName.AssetsVerify)
  async verifyAsset(data: { assetId: string }): Promise<{ protection: ProtectionLevel }> {
    const asset = await this.db.getRepository(AssetEntity).findOne({ where: { id: data.assetId } });
    if (!asset) throw new Error(`asset ${data.assetId} is not in the catalog (yet)`); // retried
    const vols = new Map((await this.volumes.list()).map((v) => [v.id, v]));
    const copies = await this.db.getRepository(CopyEntity).find({ where: { assetId: asset.id, volumeId: In([...vols.keys()]) } });
    // Both copies at once: they are on two devices.
    const checks = copies.map(async (copy) => {
      const vol = vols.get(copy.volumeId!);
      if (!vol || copy.state === CopyState.Missing || copy.state === CopyState.Verified) return;
      const files = this.volumeFiles(vol);
      const path = files.finalPath(copy.location!);
      try {
        // Nothing on a volume that is not the one set up there is read as a copy: it waits for the volume.
        if (vol.state === VolumeState.Offline) return;
        await files.assertOnline();
      } catch (err) {
        if (err instanceof VolumeOfflineError) return;
        throw err;
      }
      try {
        // xxh64 (the card's working hash, as in its ASC MHL) at ~5 GB/s: the read-back is bound by the
        // device, not the CPU. SHA-256 was checked against the card's when the file was sealed.
        const read = await readFromDevice(path, ['xxh64']);
        const ok = read.bytes === Number(asset.size) && read.hashes.xxh64 === asset.xxh64;
        await this.db.getRepository(CopyEntity).update(copy.id, {
          state: ok ? CopyState.Verified : CopyState.Mismatch,
          verifyMethod: read.method,
          observedXxh64: read.hashes.xxh64!,
          observedSha256: null,
          verifiedAt: ok ? new Date() : null,
          error: ok ? null : `read back xxh64 ${read.hashes.xxh64} (${read.bytes} bytes), expected ${asset.xxh64} (${asset.size} bytes)`,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw err; // a passing I/O problem: the job is retried
        await this.db.getRepository(CopyEntity).update(copy.id, { state: CopyState.Missing, error: `missing on the ${vol.role} volume` });
      }
    });
    const outcomes = await Promise.allSettled(checks);
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason; // a passing I/O problem: the job is retried
    await this.readCameraData(asset, copies, vols);
    // The asset's level and the card's state right after each other (a client polling the card sees them agree).
    const protection = await this.recomputeAsset(asset.id);
    await this.afterAssetChange(asset.cardId);
    return { protection };
  }

  /** Capture time, and the card's camera make, model and serial, from a verified copy's EXIF (best effort). */
  private async readCameraData(asset: AssetEntity, copies: CopyEntity[], vols: Map<string, StorageVolumeEntity>): Promise<void> {
    if (asset.fileClass !== FileClass.Raw && asset.fileClass !== FileClass.Image) return;
    const copy = copies.find((c) => c.volumeId && vols.get(c.volumeId)?.role === VolumeRole.Primary) ?? copies[0];
    const vol = copy?.volumeId ? vols.get(copy.volumeId) : undefined;
    if (!copy || !vol) return;
    const exif = await this.exif.read(new VolumeFiles(vol.role, vol.rootPath).finalPath(copy.location!));
    if (!exif) return;
    if (exif.captureTime) await this.db.getRepository(AssetEntity).update(asset.id, { captureTime: exif.captureTime });
    if (exif.make || exif.model || exif.serial) {
      await this.db.query(
        `UPDATE cards SET camera_make = coalesce(camera_make, $2), camera_model = coalesce(camera_model, $3), camera_serial = coalesce(camera_serial, $4) WHERE id = $1`,
        [asset.cardId, exif.make?.slice(0, 100) ?? null, exif.model?.slice(0, 100) ?? null, exif.serial?.slice(0, 100) ?? null],
      );
    }
  }

  /** Admin override of "two roots on one device": re-evaluates the files it concerns, both ways. */
  async setSameDeviceOverride(allow: boolean): Promise<StorageVolumeEntity[]> {
    const vols = await this.volumes.setSameDeviceOverride(allow);
    const affected: { id: string; card_id: string }[] = await this.db.query(
      `SELECT DISTINCT a.id::text, a.card_id FROM assets a JOIN copies c ON c.asset_id = a.id
        WHERE a.duplicate_of_asset_id IS NULL AND c.volume_id IS NOT NULL AND a.protection IN ('copied','verified')`,
    );
    for (const a of affected) await this.recomputeAsset(a.id);
    for (const cardId of new Set(affected.map((a) => a.card_id))) await this.afterAssetChange(cardId);
    return vols;
  }

  /** Sets an asset's local protection level from its copies (only ever what the checks proved). */
  async recomputeAsset(assetId: string, em: EntityManager = this.db.manager): Promise<ProtectionLevel> {
    const asset = (await em.findOne(AssetEntity, { where: { id: assetId } }))!;
    const rows: {
      state: CopyState;
      device_id: string | null;
      same_device_override: boolean;
      error: string | null;
      role: string;
      finding: string | null;
    }[] = await em.query(
      `SELECT c.state, v.device_id, v.same_device_override, c.error, v.role,
              (SELECT f.outcome FROM integrity_findings f WHERE f.copy_id = c.id AND f.outcome IN ('open','no_good_copy')
                ORDER BY f.id DESC LIMIT 1) AS finding
         FROM copies c JOIN storage_volumes v ON v.id = c.volume_id WHERE c.asset_id = $1`,
      [assetId],
    );
    // A damaged or missing copy that a check found (not one still to be written) puts the file at risk until it is healed.
    const damaged = rows.filter((r) => r.state === CopyState.Mismatch || (r.finding && r.state !== CopyState.Verified));
    const bad = damaged[0];
    const verified = rows.filter((r) => r.state === CopyState.Verified);
    const devices = new Set(verified.map((r) => r.device_id));
    const override = verified.length >= 2 && verified.every((r) => r.same_device_override);
    let level: ProtectionLevel;
    let reason: string | null = null;
    if (bad) {
      level = ProtectionLevel.AtRisk;
      const what = damaged
        .map((r) => `${r.role} copy ${r.state === CopyState.Missing ? 'missing' : 'does not match'}: ${r.error}`)
        .join('; ');
      reason = damaged.some((r) => r.finding === 'no_good_copy') ? `no good copy: ${what}` : what;
    } else if (verified.length >= 2 && (devices.size >= 2 || override)) {
      // Off-site levels are kept; local verification only ever raises "copied" to "verified".
      level = [ProtectionLevel.Offsite, ProtectionLevel.Immutable, ProtectionLevel.Drilled].includes(asset.protection)
        ? asset.protection
        : asset.protection === ProtectionLevel.AtRisk
          ? await this.offsiteLevel(assetId, em) // healed: the off-site copies it had still count
          : ProtectionLevel.Verified;
      if (devices.size < 2) reason = 'two copies on one device (admin override)';
    } else {
      level = ProtectionLevel.Copied;
      const missing = rows.filter((r) => r.state === CopyState.Missing).map((r) => r.role);
      reason = missing.length
        ? `copied, ${verified.length || rows.length - missing.length} of 2: missing on ${missing.join(', ')}`
        : verified.length >= 2
          ? 'both copies on one device'
          : null;
    }
    await em.update(AssetEntity, assetId, { protection: level, protectionReason: reason });
    // twins follow their original
    await em.query(`UPDATE assets SET protection = $2 WHERE duplicate_of_asset_id = $1`, [assetId, level]);
    return level;
  }

  /** The level a file with two verified local copies has from its off-site copies (after a heal). */
  private async offsiteLevel(assetId: string, em: EntityManager): Promise<ProtectionLevel> {
    const [r]: { immutable: boolean; offsite: boolean }[] = await em.query(
      `SELECT bool_or(c.state = 'immutable') AS immutable, bool_or(c.state IN ('uploaded','immutable')) AS offsite
         FROM copies c JOIN offsite_targets t ON t.id = c.target_id
        WHERE c.asset_id = $1 AND c.version_id IS NOT NULL AND (t.kind = 's3' OR t.rotates_offsite)`,
      [assetId],
    );
    return r?.immutable ? ProtectionLevel.Immutable : r?.offsite ? ProtectionLevel.Offsite : ProtectionLevel.Verified;
  }

  /** Updates the card's state; when every file is verified, queues the card's ASC MHL seal. */
  async afterAssetChange(cardId: string): Promise<void> {
    const status = await this.cardStatus(cardId);
    const { byLevel, uploadsInFlight, card } = status;
    const total = Object.values(byLevel).reduce((a, b) => a + (b ?? 0), 0);
    const verified = [ProtectionLevel.Verified, ProtectionLevel.Offsite, ProtectionLevel.Immutable, ProtectionLevel.Drilled].reduce(
      (a, l) => a + (byLevel[l] ?? 0),
      0,
    );
    let state: CardState;
    if (byLevel[ProtectionLevel.AtRisk]) state = CardState.AtRisk;
    else if (uploadsInFlight > 0 || (card.announcedFiles !== null && total < card.announcedFiles))
      state = total ? CardState.Uploading : CardState.Announced;
    // Every file verified: the card is "verifying" until its ASC MHL generation is written
    // (and the files checked against any history the card brought); the seal job makes it "verified".
    else if (total > 0 && verified === total) state = card.state === CardState.Verified ? CardState.Verified : CardState.Verifying;
    else state = CardState.Copied;
    if (state !== card.state) {
      await this.db.getRepository(CardEntity).update(cardId, { state, verifiedAt: state === CardState.Verified ? card.verifiedAt : null });
    }
    if (state === CardState.Verifying && card.state !== CardState.Verifying) {
      await this.queue.send(JobName.CardsSeal, { cardId }, { singletonKey: cardId });
    }
  }

  /**
   * Copies files that are missing on a volume (the mirror was offline during ingest) from
   * the volume that has them, then queues their verification.
   */
  @OnJob(JobName.CopiesRepair)
  async repairMissingCopies(): Promise<{ repaired: number }> {
    const { primary, mirror } = await this.volumeRows();
    if (!primary || !mirror || primary.state === VolumeState.Offline || mirror.state === VolumeState.Offline) return { repaired: 0 };
    // Catch-up after a volume was away: copies written but not yet read back (their read-back
    // waited for the volume), and cards whose ASC MHL seal waited for it.
    const written: { asset_id: string }[] = await this.db.query(
      `SELECT DISTINCT c.asset_id FROM copies c WHERE c.volume_id IS NOT NULL AND c.state = 'written' LIMIT 10000`,
    );
    for (const w of written) await this.queue.send(JobName.AssetsVerify, { assetId: w.asset_id });
    const waiting: { id: string }[] = await this.db.query(`SELECT id FROM cards WHERE state = 'verifying'`);
    for (const c of waiting) await this.queue.send(JobName.CardsSeal, { cardId: c.id }, { singletonKey: c.id });
    // Heals that waited for a volume (their retries ran out while it was away).
    const heals: { id: string; copy_id: string }[] = await this.db.query(
      `SELECT id::text, copy_id::text FROM integrity_findings WHERE outcome = 'open' AND copy_id IS NOT NULL ORDER BY id LIMIT 10000`,
    );
    for (const h of heals) await this.queue.send(JobName.CopiesHeal, { findingId: h.id }, { singletonKey: `heal-${h.copy_id}` });
    const missing: { id: string; asset_id: string; volume_id: string; location: string }[] = await this.db.query(
      `SELECT c.id, c.asset_id, c.volume_id, c.location FROM copies c WHERE c.volume_id IS NOT NULL AND c.state = 'missing'
          AND NOT EXISTS (SELECT 1 FROM integrity_findings f WHERE f.copy_id = c.id AND f.outcome IN ('open','no_good_copy'))
        ORDER BY c.id LIMIT 10000`,
    );
    let repaired = 0;
    for (const m of missing) {
      const [to, from] = m.volume_id === mirror.id ? [mirror, primary] : [primary, mirror];
      const src = new VolumeFiles(from.role, from.rootPath);
      const dst = this.volumeFiles(to); // its marker and device checked before each write
      await copyFileDurably(src.finalPath(m.location), dst, m.location);
      await this.db.getRepository(CopyEntity).update(m.id, { state: CopyState.Written, error: null });
      await this.queue.send(JobName.AssetsVerify, { assetId: m.asset_id });
      repaired++;
    }
    if (repaired) this.log.log(`Copied ${repaired} missing file(s) to their volume`);
    return { repaired };
  }
}

function caseTwinWarning(other: string): NameWarning {
  return {
    code: NameWarningCode.CaseTwin,
    message: `differs only in case from "${other}" of the same card: restored to macOS or Windows, one would hide the other`,
  };
}

export function projectYear(project: ProjectEntity, card: CardEntity): number {
  return project.shootDate ? Number(project.shootDate.slice(0, 4)) : card.createdAt.getUTCFullYear();
}

/** Copies a file into a volume the durable way: staged, fsynced, linked into place, never overwriting. */
async function copyFileDurably(source: string, dst: VolumeFiles, relative: string): Promise<void> {
  const id = `repair-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  await dst.createPart(id);
  await dst.wrap(async () => {
    await copyFile(source, dst.partPath(id));
    await chmod(dst.partPath(id), VOLUME_FILE_MODE); // copyFile gives the copy the source's mode
  });
  if ((await dst.promote(id, relative)) === 'exists') await dst.removePart(id);
}
