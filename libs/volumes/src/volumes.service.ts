import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { AppError } from '@studiovault/common';
import { AppConfig, CONFIG } from '@studiovault/config';
import { ErrorCode, VolumeRole, VolumeState } from '@studiovault/contracts';
import { JobName, JobQueue, OnJob } from '@studiovault/jobs';
import { MARKER_FILE, VolumeFsRepository, VolumeProbe } from './volume-fs.repository';

/** What a check of a volume's identity found. */
export type VolumeIdentity = { ok: true; probe: VolumeProbe } | { ok: false; reason: string };

/**
 * The two local volumes (primary: fast pool; mirror: second device). A volume is known by
 * the identity marker StudioVault writes at its root when it is set up, and by the device
 * recorded then: a root without that marker (a folder moved away, a disk not mounted), with
 * another volume's marker, or on another device is offline, and nothing is written there.
 * Its root is never created after set-up. "Two media" needs two devices: roots on one device
 * are flagged `sameDevice`, and only an explicit admin override lets cards reach "verified" there.
 */
@Injectable()
export class VolumesService implements BeforeApplicationShutdown {
  private readonly log = new Logger(VolumesService.name);
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    @InjectRepository(StorageVolumeEntity) private readonly volumes: Repository<StorageVolumeEntity>,
    private readonly fs: VolumeFsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    @Optional() private readonly queue?: JobQueue,
  ) {
    // The process that runs jobs checks the volumes every 30 s (a cron cannot go below a minute).
    // The timer runs the check itself, not through the queue: it never touches a queue that is stopping.
    queue?.onStarted(async (role) => {
      if (role !== 'worker' || this.timer) return;
      this.timer = setInterval(() => void this.periodicCheck(), this.config.volumes.checkSeconds * 1000);
      this.timer.unref();
    });
  }

  private async periodicCheck(): Promise<void> {
    if (this.checking || !this.timer) return;
    this.checking = true;
    try {
      await this.check();
    } catch (err) {
      this.log.warn(`volume check: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /** Before the queue and the database go away. */
  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Admin: let two roots on one device count as two copies (shown as a warning on every affected card). */
  async setSameDeviceOverride(allow: boolean): Promise<StorageVolumeEntity[]> {
    await this.volumes.createQueryBuilder().update().set({ sameDeviceOverride: allow }).execute();
    await this.audit.record('volumes.same_device_override', undefined, { allow });
    return this.list();
  }

  /**
   * Registers the configured roots. A new volume is set up: its root is created if absent and
   * its identity marker written. A volume registered before markers existed (an upgrade) gets
   * its marker when its root is there, empty or laid out as a volume, on the recorded device;
   * otherwise it stays offline with a reason an admin can act on (`adopt`).
   */
  async registerConfigured(): Promise<StorageVolumeEntity[]> {
    const roots: [VolumeRole, string][] = [
      [VolumeRole.Primary, this.config.volumes.primaryRoot],
      [VolumeRole.Mirror, this.config.volumes.mirrorRoot],
    ];
    for (const [role, root] of roots) {
      let row = await this.volumes.findOne({ where: { role } });
      if (!row) {
        if ((await this.fs.rootContent(root).catch(() => 'other')) === 'missing') {
          try {
            await this.fs.createRootAtSetup(root);
          } catch (err) {
            this.log.warn(`Cannot create the ${role} volume root ${root}: ${(err as Error).message}`);
          }
        }
        await this.volumes
          .createQueryBuilder()
          .insert()
          .values({ role, rootPath: root, sameDevice: false, sameDeviceOverride: false, state: VolumeState.Offline })
          .orIgnore()
          .execute();
        row = (await this.volumes.findOne({ where: { role } }))!;
      } else if (row.rootPath !== root) {
        // Moved to another mount point: the volume's marker must be there (checked below).
        await this.volumes.update(row.id, { rootPath: root });
        row.rootPath = root;
      }
      if (!row.markerUuid) await this.setUp(row);
    }
    return this.check();
  }

  /**
   * Writes the identity marker of a volume that has none recorded, when its root is safe to
   * claim: present, empty or laid out as a volume, without another volume's marker, on the
   * recorded device (if one was recorded). Otherwise records why not.
   */
  private async setUp(row: StorageVolumeEntity): Promise<boolean> {
    const refuse = async (reason: string) => {
      row.offlineReason = reason;
      await this.volumes.update(row.id, { state: VolumeState.Offline, offlineReason: reason, lastCheckedAt: new Date() });
      this.log.warn(`The ${row.role} volume is not set up: ${reason}`);
      return false;
    };
    const root = row.rootPath;
    try {
      const content = await this.fs.rootContent(root);
      if (content === 'missing') return refuse(`root missing at ${root}: mount the volume, or adopt another root`);
      const marker = await this.fs.readMarker(root);
      if (marker === 'unreadable') return refuse(`marker unreadable at ${join(root, MARKER_FILE)}`);
      if (marker && (marker.volumeId !== row.id || marker.role !== row.role)) {
        // A marker of the same role left by an earlier catalog (a rebuilt database) is this volume's.
        const other = await this.volumes.findOne({ where: { markerUuid: marker.uuid } });
        if (other || marker.role !== row.role)
          return refuse(`foreign marker at ${join(root, MARKER_FILE)}: it belongs to the ${marker.role} volume ${marker.volumeId}`);
      }
      if (!marker && content === 'other')
        return refuse(`root at ${root} holds files that are not a StudioVault volume's: adopt it if it is the right disk`);
      const probe = await this.fs.probe(root);
      if (row.deviceId && row.deviceId !== probe.deviceId)
        return refuse(
          `device changed at ${root} (recorded ${row.deviceId}, now ${probe.deviceId}): mount the right disk, or adopt this one`,
        );
      const uuid = randomUUID();
      await this.fs.writeMarker(root, {
        format: 'studiovault-volume',
        version: 1,
        volumeId: row.id,
        role: row.role,
        createdAt: new Date().toISOString(),
        uuid,
      });
      await this.volumes.update(row.id, { markerUuid: uuid, deviceId: probe.deviceId, offlineReason: null });
      row.markerUuid = uuid;
      row.deviceId = probe.deviceId;
      await this.audit.record(
        'volumes.set_up',
        { type: 'volume', id: row.id },
        { role: row.role, root, device: probe.deviceId, marker: uuid },
      );
      this.log.log(`Set up the ${row.role} volume at ${root} (device ${probe.deviceId})`);
      return true;
    } catch (err) {
      return refuse(`root unreadable at ${root}: ${(err as Error).message}`);
    }
  }

  /**
   * Admin: takes the disk now at a volume's root as that volume (the right disk re-attached on
   * another device number, a root moved to a new disk by hand). Refused when the root holds the
   * other volume's marker. Writes a new marker and records the device.
   */
  async adopt(role: VolumeRole): Promise<StorageVolumeEntity[]> {
    const row = await this.volumes.findOne({ where: { role } });
    if (!row) throw new AppError(ErrorCode.NotFound, `No ${role} volume is registered`);
    const content = await this.fs.rootContent(row.rootPath);
    if (content === 'missing')
      throw new AppError(ErrorCode.VolumeOffline, `The ${role} volume's root ${row.rootPath} does not exist: mount it first`);
    const marker = await this.fs.readMarker(row.rootPath);
    if (marker && marker !== 'unreadable' && marker.role !== role)
      throw new AppError(ErrorCode.Conflict, `${row.rootPath} holds the ${marker.role} volume's marker: it is not the ${role} volume`);
    const probe = await this.fs.probe(row.rootPath);
    const uuid = randomUUID();
    await this.fs.writeMarker(row.rootPath, {
      format: 'studiovault-volume',
      version: 1,
      volumeId: row.id,
      role,
      createdAt: new Date().toISOString(),
      uuid,
    });
    await this.volumes.update(row.id, { markerUuid: uuid, deviceId: probe.deviceId, offlineReason: null });
    await this.audit.record(
      'volumes.adopt',
      { type: 'volume', id: row.id },
      { role, root: row.rootPath, device: probe.deviceId, marker: uuid },
    );
    return this.check();
  }

  /** The volume's marker and device, compared with what was recorded at set-up. */
  async identify(v: StorageVolumeEntity): Promise<VolumeIdentity> {
    const root = v.rootPath;
    if (!v.markerUuid) return { ok: false, reason: v.offlineReason ?? `not set up: no identity marker recorded for ${root}` };
    let probe: VolumeProbe;
    try {
      probe = await this.fs.probe(root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, reason: code === 'ENOENT' ? `root missing at ${root}` : `root unreadable at ${root}: ${(err as Error).message}` };
    }
    const path = join(root, MARKER_FILE);
    let marker;
    try {
      marker = await this.fs.readMarker(root);
    } catch (err) {
      return { ok: false, reason: `marker unreadable at ${path}: ${(err as Error).message}` };
    }
    if (marker === null) return { ok: false, reason: `marker missing at ${path}` };
    if (marker === 'unreadable') return { ok: false, reason: `marker unreadable at ${path}` };
    if (marker.uuid !== v.markerUuid)
      return { ok: false, reason: `foreign marker at ${path}: it belongs to the ${marker.role} volume ${marker.volumeId}` };
    if (v.deviceId && probe.deviceId !== v.deviceId)
      return { ok: false, reason: `device changed at ${root} (set up on device ${v.deviceId}, now ${probe.deviceId})` };
    return { ok: true, probe };
  }

  /**
   * Before a write (a card announced, a file promoted, a copy repaired): the volume must be the
   * one set up there. A failed check takes the volume offline at once and throws VOLUME_OFFLINE.
   */
  async assertWritable(volumeId: string): Promise<void> {
    const v = await this.volumes.findOne({ where: { id: volumeId } });
    if (!v) throw new AppError(ErrorCode.VolumeOffline, 'The volume is not registered');
    const id = await this.identify(v);
    if (id.ok) return;
    if (v.state !== VolumeState.Offline || v.offlineReason !== id.reason) await this.goOffline(v, id.reason);
    throw new AppError(ErrorCode.VolumeOffline, `The ${v.role} volume is offline: ${id.reason}`, [`volume=${v.role}`]);
  }

  private async goOffline(v: StorageVolumeEntity, reason: string): Promise<void> {
    const was = v.state;
    await this.volumes.update(v.id, { state: VolumeState.Offline, offlineReason: reason, lastCheckedAt: new Date() });
    if (was !== VolumeState.Offline) {
      this.log.warn(`The ${v.role} volume went offline: ${reason}`);
      await this.audit.record('volumes.offline', { type: 'volume', id: v.id }, { role: v.role, reason }).catch(() => undefined);
    }
  }

  /** Checks every volume: identity (marker, device), free space, and whether the two share a device. */
  @OnJob(JobName.VolumesCheck)
  async check(): Promise<StorageVolumeEntity[]> {
    const all = await this.volumes.find({ order: { role: 'ASC' } });
    const cameBack: StorageVolumeEntity[] = [];
    const devices = new Map<string, string | null>();
    for (const v of all) {
      // A volume registered before markers existed, whose root was not there at start-up: try again.
      if (!v.markerUuid) await this.setUp(v);
      const id = await this.identify(v);
      if (!id.ok) {
        devices.set(v.id, null);
        await this.goOffline(v, id.reason);
        continue;
      }
      devices.set(v.id, id.probe.deviceId);
      await this.volumes.update(v.id, {
        freeBytes: id.probe.freeBytes.toString(),
        totalBytes: id.probe.totalBytes.toString(),
        state: id.probe.freeBytes === 0n ? VolumeState.Full : VolumeState.Online,
        offlineReason: null,
        lastCheckedAt: new Date(),
      });
      // Only a volume seen offline by an earlier check "comes back"; one just registered was never checked.
      if (v.state === VolumeState.Offline && v.lastCheckedAt !== null) {
        cameBack.push(v);
        this.log.log(`The ${v.role} volume is back online at ${v.rootPath}`);
        await this.audit.record('volumes.online', { type: 'volume', id: v.id }, { role: v.role }).catch(() => undefined);
      }
    }
    const ids = [...devices.values()].filter((d): d is string => d !== null);
    const shared = ids.length === 2 && ids[0] === ids[1];
    for (const v of all) {
      if (devices.get(v.id) !== null) await this.volumes.update(v.id, { sameDevice: shared });
    }
    // A volume that returns (pool back, USB drive plugged in) gets the copies it missed, and its copies are checked.
    if (cameBack.length && this.queue) await this.queue.send(JobName.CopiesRepair, {}).catch(() => undefined);
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
