import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { TargetsService } from '@studiovault/backup';
import { DamageKind, FindingOutcome, FindingSource, VolumeRole, VolumeState } from '@studiovault/contracts';
import { MultiHasher, readFromDevice } from '@studiovault/hashing';
import { CopyDamageService, IngestService, type VolumeFiles } from '@studiovault/ingest';
import { JobName, OnJob } from '@studiovault/jobs';
import { mkdirBelowRoot, VolumesService } from '@studiovault/volumes';
import { ScrubService } from './scrub.service';

/** Where the damaged bytes go on their volume: `<root>/.studiovault-quarantine/<date>/<path>`. */
export const QUARANTINE_DIR = '.studiovault-quarantine';

interface FindingRow {
  id: string;
  asset_id: string;
  copy_id: string | null;
  kind: DamageKind;
  found_by: FindingSource;
  outcome: FindingOutcome;
  location: string | null;
  volume_id: string | null;
  size: string;
  xxh64: string | null;
  sha256: string | null;
  card_id: string;
  healed_from: Source['from'] | null;
  quarantine_path: string | null;
}

type Source = { from: 'primary' | 'mirror' | 'offsite'; open: () => Promise<Readable> | Readable; copyId?: string };

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Self-heal: a damaged or missing local copy is rewritten from a good copy (the other volume
 * first, else an off-site copy, its SHA-256 checked), staged, fsynced and linked into place, then
 * verified from the device; the damaged bytes go to the volume's quarantine folder. A file with no
 * good copy anywhere stays at risk and says so. Every heal is audited and in the file's history.
 */
@Injectable()
export class HealService {
  private readonly log = new Logger(HealService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly volumes: VolumesService,
    private readonly ingest: IngestService,
    private readonly damage: CopyDamageService,
    private readonly targets: TargetsService,
    private readonly scrub: ScrubService,
    private readonly audit: AuditService,
  ) {}

  @OnJob(JobName.CopiesHeal)
  async heal(data: { findingId: string }): Promise<{ outcome: FindingOutcome | 'waiting'; from?: string }> {
    const [f]: FindingRow[] = await this.db.query(
      `SELECT f.id::text, f.asset_id::text, f.copy_id::text, f.kind, f.found_by, f.outcome, c.location, c.volume_id,
              a.size::text, a.xxh64, a.sha256, a.card_id, f.healed_from, f.quarantine_path
         FROM integrity_findings f JOIN assets a ON a.id = f.asset_id LEFT JOIN copies c ON c.id = f.copy_id
        WHERE f.id = $1`,
      [data.findingId],
    );
    if (!f || f.outcome !== FindingOutcome.Open || !f.copy_id || !f.location || !f.volume_id)
      return { outcome: f?.outcome ?? FindingOutcome.Open };
    const vols = await this.volumes.list();
    const vol = vols.find((v) => v.id === f.volume_id);
    // The volume is away: the heal waits for it (retried; the catch-up after its return queues it again).
    if (!vol || vol.state === VolumeState.Offline) throw new Error(`the ${vol?.role ?? ''} volume is offline; the heal waits for it`);
    const files = this.ingest.volumeFiles(vol);
    await files.assertOnline();
    const final = files.finalPath(f.location);
    const size = Number(f.size);

    // The copy is read from the device first: a report from elsewhere (the CLI, a restore) is confirmed by our
    // own read, and a heal interrupted after the good bytes were in place is not done twice.
    {
      const now = await readFromDevice(final, ['xxh64']).catch(() => null);
      if (now && now.bytes === size && now.hashes.xxh64 === f.xxh64) {
        const healed = f.healed_from !== null;
        await this.resolve(f, healed ? FindingOutcome.Healed : FindingOutcome.NotConfirmed, f.healed_from, f.quarantine_path);
        await this.db.query(
          `UPDATE copies SET state = 'verified', verified_at = now(), verify_method = $2, observed_xxh64 = $3, error = NULL,
                  last_scrubbed_at = now(), scrub_result = 'ok', updated_at = now() WHERE id = $1`,
          [f.copy_id, now.method, now.hashes.xxh64],
        );
        if (healed) {
          await this.audit.record(
            'integrity.heal',
            { type: 'asset', id: f.asset_id },
            { finding: f.id, volume: vol.role, kind: f.kind, from: f.healed_from, quarantine: f.quarantine_path },
          );
        } else await this.audit.record('integrity.not_confirmed', { type: 'asset', id: f.asset_id }, { finding: f.id, volume: vol.role });
        await this.afterChange(f);
        return { outcome: healed ? FindingOutcome.Healed : FindingOutcome.NotConfirmed };
      }
    }

    const partId = `heal-${f.id}-${Date.now().toString(36)}`;
    let from: Source['from'] | null = null;
    const tried: string[] = [];
    for (const source of await this.sources(f, vol.role)) {
      await files.removePart(partId);
      await files.createPart(partId);
      const got = await this.stage(source, files, partId).catch((err: Error) => ({ error: err.message }) as const);
      if ('error' in got) {
        tried.push(`${source.from}: ${got.error}`);
        continue;
      }
      if (got.bytes === size && got.xxh64 === f.xxh64 && (!f.sha256 || got.sha256 === f.sha256)) {
        from = source.from;
        break;
      }
      tried.push(`${source.from}: ${got.bytes} bytes, sha256 ${got.sha256}`);
      // The other local copy is damaged too: that is a finding of its own.
      if (source.copyId) {
        await this.damage.report({
          assetId: f.asset_id,
          copyId: source.copyId,
          kind: got.bytes < size ? DamageKind.Short : got.bytes > size ? DamageKind.Long : DamageKind.Mismatch,
          foundBy: FindingSource.Heal,
          detail: `read while healing the ${vol.role} copy: ${got.bytes} bytes, xxh64 ${got.xxh64}; expected ${size} bytes, xxh64 ${f.xxh64}`,
        });
      }
    }
    if (!from) {
      await files.removePart(partId);
      await this.resolve(f, FindingOutcome.NoGoodCopy, null, null);
      await this.audit.record(
        'integrity.no_good_copy',
        { type: 'asset', id: f.asset_id },
        { finding: f.id, volume: vol.role, tried: tried.length ? tried : ['no other copy'] },
      );
      await this.afterChange(f);
      this.log.error(`file ${f.asset_id}: no good copy to heal the ${vol.role} copy from (${tried.join('; ') || 'no other copy'})`);
      return { outcome: FindingOutcome.NoGoodCopy };
    }

    // The damaged bytes to quarantine (a missing file has none), then the good copy into place.
    const quarantined = await this.quarantine(files, f.location);
    // Recorded before the good bytes go into place: a retry after a crash finds the copy good and knows it was healed.
    await this.db.query(`UPDATE integrity_findings SET healed_from = $2, quarantine_path = $3 WHERE id = $1`, [f.id, from, quarantined]);
    const placed = await files.promote(partId, f.location);
    if (placed === 'exists') {
      // Something put a file there meanwhile: leave it to the next scrub to judge.
      await files.removePart(partId);
      throw new Error(`${f.location} appeared on the ${vol.role} volume while it was healed`);
    }
    const check = await readFromDevice(final, ['xxh64']);
    if (check.bytes !== size || check.hashes.xxh64 !== f.xxh64) {
      throw new Error(`the healed ${vol.role} copy read back ${check.bytes} bytes, xxh64 ${check.hashes.xxh64}`); // retried
    }
    await this.db.query(
      `UPDATE copies SET state = 'verified', verified_at = now(), verify_method = $2, observed_xxh64 = $3, error = NULL,
              last_scrubbed_at = now(), scrub_result = 'healed', updated_at = now() WHERE id = $1`,
      [f.copy_id, check.method, check.hashes.xxh64],
    );
    await this.resolve(f, FindingOutcome.Healed, from, quarantined);
    await this.audit.record(
      'integrity.heal',
      { type: 'asset', id: f.asset_id },
      { finding: f.id, volume: vol.role, kind: f.kind, from, quarantine: quarantined },
    );
    this.log.log(`file ${f.asset_id}: the ${vol.role} copy healed from ${from}${quarantined ? `, damaged bytes in ${quarantined}` : ''}`);
    await this.afterChange(f);
    return { outcome: FindingOutcome.Healed, from };
  }

  /** Good copies to heal from, best first: the other volume's verified copy, then off-site copies. */
  private async sources(f: FindingRow, role: VolumeRole): Promise<Source[]> {
    const out: Source[] = [];
    const local: { id: string; role: VolumeRole; root_path: string; location: string }[] = await this.db.query(
      `SELECT c.id::text, v.role, v.root_path, c.location FROM copies c JOIN storage_volumes v ON v.id = c.volume_id
        WHERE c.asset_id = $1 AND c.id <> $2 AND c.state = 'verified' AND v.state <> 'offline'`,
      [f.asset_id, f.copy_id],
    );
    for (const l of local.filter((r) => r.role !== role)) {
      const path = join(l.root_path, l.location);
      out.push({ from: l.role, copyId: l.id, open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }) });
    }
    const remote: { target_id: string; location: string; version_id: string }[] = await this.db.query(
      `SELECT c.target_id, c.location, c.version_id FROM copies c JOIN offsite_targets t ON t.id = c.target_id
        WHERE c.asset_id = $1 AND c.state IN ('uploaded','immutable') AND c.version_id IS NOT NULL AND t.enabled
        ORDER BY c.state = 'immutable' DESC, c.id`,
      [f.asset_id],
    );
    for (const r of remote) {
      out.push({
        from: 'offsite',
        open: async () => {
          const driver = await this.targets.open(await this.targets.get(r.target_id));
          return driver.get(r.location, r.version_id);
        },
      });
    }
    return out;
  }

  /** Writes a source's bytes into a staging file on the damaged copy's volume, hashing them; fsynced by promote. */
  private async stage(source: Source, files: VolumeFiles, partId: string): Promise<{ bytes: number; xxh64?: string; sha256?: string }> {
    const hasher = new MultiHasher(['xxh64', 'sha256']);
    const fh = await files.wrap(() => open(files.partPath(partId), 'r+'));
    try {
      let position = 0;
      for await (const chunk of (await source.open()) as AsyncIterable<Buffer>) {
        hasher.update(chunk);
        await files.wrap(() => fh.write(chunk, 0, chunk.length, position));
        position += chunk.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    const d = hasher.digest();
    return { bytes: hasher.bytes, xxh64: d.xxh64, sha256: d.sha256 };
  }

  /** Moves the damaged file (if there is one) into the volume's quarantine; returns where it went, relative to the root. */
  private async quarantine(files: VolumeFiles, location: string): Promise<string | null> {
    const final = files.finalPath(location);
    if (!(await stat(final).catch(() => null))) return null;
    const day = new Date().toISOString().slice(0, 10);
    let rel = posix.join(QUARANTINE_DIR, day, location);
    if (await stat(files.finalPath(rel)).catch(() => null)) rel = `${rel}.${Date.now()}`;
    await files.assertOnline();
    await files.wrap(async () => {
      await mkdirBelowRoot(files.root, posix.dirname(rel));
      await rename(final, files.finalPath(rel));
      await fsyncDir(dirname(files.finalPath(rel)));
      await fsyncDir(dirname(final));
    });
    return rel;
  }

  private async resolve(f: FindingRow, outcome: FindingOutcome, from: string | null, quarantine: string | null): Promise<void> {
    await this.db.query(
      `UPDATE integrity_findings SET outcome = $2::varchar, healed_from = $3, quarantine_path = $4,
              resolved_at = CASE WHEN $2::varchar = 'no_good_copy' THEN NULL ELSE now() END WHERE id = $1`,
      [f.id, outcome, from, quarantine],
    );
  }

  private async afterChange(f: FindingRow): Promise<void> {
    await this.ingest.recomputeAsset(f.asset_id);
    await this.ingest.afterAssetChange(f.card_id);
  }

  /** Deletes quarantine folders older than the admin's quarantine days, each with an audit entry. */
  @OnJob(JobName.QuarantinePurge)
  async purgeQuarantine(): Promise<{ removed: string[] }> {
    const { quarantineDays } = await this.scrub.settings();
    const cutoff = new Date(Date.now() - quarantineDays * 86400_000).toISOString().slice(0, 10);
    const removed: string[] = [];
    for (const v of await this.volumes.list()) {
      if (v.state === VolumeState.Offline) continue;
      const dir = join(v.rootPath, QUARANTINE_DIR);
      const days = await readdir(dir).catch(() => [] as string[]);
      for (const day of days.sort()) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || day >= cutoff) continue;
        const files = await countFiles(join(dir, day));
        await rm(join(dir, day), { recursive: true, force: true });
        await this.audit.record('integrity.quarantine_purge', undefined, {
          volume: v.role,
          folder: `${QUARANTINE_DIR}/${day}`,
          files,
          quarantineDays,
        });
        removed.push(`${v.role}:${day}`);
      }
    }
    if (removed.length) this.log.log(`Quarantine: removed ${removed.join(', ')}`);
    return { removed };
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    n += e.isDirectory() ? await countFiles(join(dir, e.name)) : 1;
  }
  return n;
}
