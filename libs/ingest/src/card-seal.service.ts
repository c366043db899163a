import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { HashFormat, hashFile, sealCardFolder } from '@studiovault/ascmhl';
import { AssetEntity, CardEntity, ProjectEntity, SettingEntity } from '@studiovault/catalog';
import { CardState, ProtectionLevel, VolumeState } from '@studiovault/contracts';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { mkdirBelowRoot, VolumesService } from '@studiovault/volumes';
import { cardFolder } from './card-paths';
import { IngestService } from './ingest.service';

export const MHL_FORMATS = ['xxh64', 'xxh128', 'md5', 'sha1'] as const;
export type MhlFormat = (typeof MHL_FORMATS)[number];
const SETTING_FORMAT = 'mhl_hash_format';
const VERSION = '0.1.0';

export interface CardSealReport {
  volumes: { role: string; generation: string; sequenceNumber: number; mismatched: string[] }[];
}

/**
 * After a card's files are verified, writes an ASC MHL generation into `<card folder>/ascmhl/`
 * on both volumes. A card that arrived with its own history (camera, DIT, another offload
 * tool) is verified against it, and its history continues with StudioVault's generation.
 */
@Injectable()
export class CardSealService {
  private readonly log = new Logger(CardSealService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly volumes: VolumesService,
    private readonly ingest: IngestService,
    private readonly queue: JobQueue,
  ) {}

  async hashFormat(): Promise<MhlFormat> {
    const row = await this.db.getRepository(SettingEntity).findOne({ where: { key: SETTING_FORMAT } });
    return (MHL_FORMATS as readonly unknown[]).includes(row?.value) ? (row!.value as MhlFormat) : 'xxh64';
  }

  async setHashFormat(format: MhlFormat): Promise<void> {
    await this.db.getRepository(SettingEntity).upsert({ key: SETTING_FORMAT, value: format }, ['key']);
  }

  @OnJob(JobName.CardsSeal)
  async sealCard(data: { cardId: string }): Promise<CardSealReport> {
    // One seal per card at a time, across workers: generations are numbered in sequence.
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtext('studiovault:card-seal:' || $1))`, [data.cardId]);
      try {
        return await this.sealLocked(data.cardId);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext('studiovault:card-seal:' || $1))`, [data.cardId]);
      }
    } finally {
      await runner.release();
    }
  }

  private async sealLocked(cardId: string): Promise<CardSealReport> {
    const card = await this.db.getRepository(CardEntity).findOneOrFail({ where: { id: cardId } });
    const project = await this.db.getRepository(ProjectEntity).findOneOrFail({ where: { id: card.projectId } });
    const folder = cardFolder(
      project.shootDate ? Number(project.shootDate.slice(0, 4)) : card.createdAt.getUTCFullYear(),
      project.slug,
      card.label,
    );
    // The card's own files (a twin card stores nothing of its own, so it has no folder to seal).
    const assets = await this.db
      .getRepository(AssetEntity)
      .createQueryBuilder('a')
      .where('a.card_id = :c AND a.duplicate_of_asset_id IS NULL AND a.stored_path IS NOT NULL', { c: cardId })
      .orderBy('a.stored_path')
      .getMany();
    const format = await this.hashFormat();
    const report: CardSealReport = { volumes: [] };
    if (!assets.length) return this.finishSeal(card, report); // a twin card stores nothing of its own
    const creationDate = new Date();
    const prefix = `${folder}/`;
    const volumes = await this.volumes.list();
    for (const v of volumes) {
      // Both copies of the card get their generation: with a volume offline (or not the one set up
      // there), the card stays "verifying" and the catch-up after its return seals it.
      const reachable =
        v.state !== VolumeState.Offline &&
        (await this.volumes.assertWritable(v.id).then(
          () => true,
          () => false,
        ));
      if (!reachable) {
        this.log.warn(`Sealing ${folder} waits for the ${v.role} volume: it is offline`);
        return report;
      }
    }
    for (const v of volumes) {
      const cardDir = join(v.rootPath, folder);
      await mkdirBelowRoot(v.rootPath, `${folder}/ascmhl`); // below the checked root; never the root itself
      const files = [];
      for (const a of assets) {
        const rel = a.storedPath!.startsWith(prefix) ? a.storedPath!.slice(prefix.length) : a.storedPath!;
        const hashes: Partial<Record<HashFormat, string>> = { xxh64: a.xxh64! };
        if (format !== 'xxh64') Object.assign(hashes, (await hashFile(join(cardDir, rel), [format])).hashes);
        files.push({ path: rel, size: Number(a.size), lastModified: a.modifiedTime ?? undefined, hashes });
      }
      const sealed = await sealCardFolder(cardDir, {
        files,
        creator: { toolName: 'StudioVault', toolVersion: VERSION, hostname: hostname(), creationDate },
        process: 'transfer',
      });
      const mismatched = sealed.check.files.filter((f) => f.status === 'mismatched');
      for (const m of mismatched) {
        const asset = assets.find((a) => a.storedPath === `${prefix}${m.path}`);
        if (!asset) continue;
        const [first] = m.mismatches;
        await this.db.getRepository(AssetEntity).update(asset.id, {
          protection: ProtectionLevel.AtRisk,
          protectionReason: `differs from the card's ASC MHL history (generation ${first?.sequenceNumber}): ${first?.format} ${first?.expected} recorded, ${first?.actual} received`,
        });
      }
      report.volumes.push({
        role: v.role,
        generation: sealed.written.fileName,
        sequenceNumber: sealed.written.sequenceNumber,
        mismatched: mismatched.map((m) => m.path),
      });
      this.log.log(
        `Sealed ${folder} on the ${v.role} volume: ${sealed.written.fileName}${mismatched.length ? `, ${mismatched.length} file(s) differ from the card's history` : ''}`,
      );
    }
    return this.finishSeal(card, report);
  }

  /** The card is "verified" once sealed with every file matching; a mismatch with its history puts it at risk. */
  private async finishSeal(card: CardEntity, report: CardSealReport): Promise<CardSealReport> {
    if (report.volumes.some((r) => r.mismatched.length)) {
      await this.ingest.afterAssetChange(card.id);
    } else {
      await this.db
        .getRepository(CardEntity)
        .update({ id: card.id, state: CardState.Verifying }, { state: CardState.Verified, verifiedAt: new Date() });
      // Off-site starts now (the backup module decides whether the admin wants that).
      await this.queue.send(JobName.BackupCard, { cardId: card.id });
    }
    return report;
  }
}
