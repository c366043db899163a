import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { AppConfig, CONFIG } from '@studiovault/config';
import { VolumeRole, VolumeState } from '@studiovault/contracts';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { VolumeFsRepository } from './volume-fs.repository';

/**
 * The two local volumes (primary: fast pool; mirror: second device). "Two media" needs
 * two devices: roots on one device are flagged `sameDevice`, and only an explicit admin
 * override lets cards reach "verified" there.
 */
@Injectable()
export class VolumesService {
  private readonly log = new Logger(VolumesService.name);

  constructor(
    @InjectRepository(StorageVolumeEntity) private readonly volumes: Repository<StorageVolumeEntity>,
    private readonly fs: VolumeFsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    @Optional() private readonly queue?: JobQueue,
  ) {}

  /** Admin: let two roots on one device count as two copies (shown as a warning on every affected card). */
  async setSameDeviceOverride(allow: boolean): Promise<StorageVolumeEntity[]> {
    await this.volumes.createQueryBuilder().update().set({ sameDeviceOverride: allow }).execute();
    await this.audit.record('volumes.same_device_override', undefined, { allow });
    return this.list();
  }

  /** Registers the configured roots (creating them if absent) and probes their devices. */
  async registerConfigured(): Promise<StorageVolumeEntity[]> {
    const roots: [VolumeRole, string][] = [
      [VolumeRole.Primary, this.config.volumes.primaryRoot],
      [VolumeRole.Mirror, this.config.volumes.mirrorRoot],
    ];
    for (const [role, root] of roots) {
      try {
        await this.fs.ensureRoot(root);
      } catch (err) {
        this.log.warn(`Cannot create the ${role} volume root ${root}: ${(err as Error).message}`);
      }
      const existing = await this.volumes.findOne({ where: { role } });
      if (existing && existing.rootPath !== root) {
        await this.volumes.update(existing.id, { rootPath: root });
      } else if (!existing) {
        await this.volumes
          .createQueryBuilder()
          .insert()
          .values({ role, rootPath: root, sameDevice: false, sameDeviceOverride: false, state: VolumeState.Offline })
          .orIgnore()
          .execute();
      }
    }
    return this.check();
  }

  /** Probes every volume: online/offline/full, free space, and whether the two share a device. */
  @OnJob(JobName.VolumesCheck)
  async check(): Promise<StorageVolumeEntity[]> {
    const all = await this.volumes.find({ order: { role: 'ASC' } });
    // Only a volume seen offline by an earlier check "comes back"; one just registered was never checked.
    const wasOffline = new Set(all.filter((v) => v.state === VolumeState.Offline && v.lastCheckedAt !== null).map((v) => v.id));
    let cameBack = false;
    const devices = new Map<string, string | null>();
    for (const v of all) {
      try {
        const p = await this.fs.probe(v.rootPath);
        devices.set(v.id, p.deviceId);
        await this.volumes.update(v.id, {
          deviceId: p.deviceId,
          freeBytes: p.freeBytes.toString(),
          totalBytes: p.totalBytes.toString(),
          state: p.freeBytes === 0n ? VolumeState.Full : VolumeState.Online,
          lastCheckedAt: new Date(),
        });
        if (wasOffline.has(v.id)) cameBack = true;
      } catch {
        devices.set(v.id, null);
        await this.volumes.update(v.id, { state: VolumeState.Offline, lastCheckedAt: new Date() });
      }
    }
    const ids = [...devices.values()].filter((d): d is string => d !== null);
    const shared = ids.length === 2 && ids[0] === ids[1];
    for (const v of all) {
      if (devices.get(v.id) !== null) await this.volumes.update(v.id, { sameDevice: shared });
    }
    // A volume that returns (pool back, USB drive plugged in) gets the copies it missed.
    if (cameBack && this.queue) await this.queue.send(JobName.CopiesRepair, {}).catch(() => undefined);
    if (shared) this.log.warn('The primary and mirror volumes are on the same device: this does not count as two media');
    return this.volumes.find({ order: { role: 'ASC' } });
  }

  /** Bytes free under a volume root right now (statfs; the catalog is not updated). */
  async freeBytes(rootPath: string): Promise<number> {
    return Number((await this.fs.probe(rootPath)).freeBytes);
  }

  list(): Promise<StorageVolumeEntity[]> {
    return this.volumes.find({ order: { role: 'ASC' } });
  }
}
