import { ApiProperty } from '@nestjs/swagger';
import { IsEnum } from 'class-validator';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { VolumeRole, VolumeState } from '@studiovault/contracts';

export class VolumeDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: VolumeRole, enumName: 'VolumeRole' }) role!: VolumeRole;
  @ApiProperty() rootPath!: string;
  @ApiProperty({ enum: VolumeState, enumName: 'VolumeState' }) state!: VolumeState;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "Why the volume is offline (marker missing or another volume's, device changed, root missing); null while online",
  })
  offlineReason!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The device (st_dev) recorded when the volume was set up' })
  deviceId!: string | null;
  @ApiProperty({ description: 'Both volumes are on one device: not two media' }) sameDevice!: boolean;
  @ApiProperty() sameDeviceOverride!: boolean;
  @ApiProperty({ type: Number, nullable: true }) freeBytes!: number | null;
  @ApiProperty({ type: Number, nullable: true }) totalBytes!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastCheckedAt!: string | null;

  static from(v: StorageVolumeEntity): VolumeDto {
    return {
      id: v.id,
      role: v.role,
      rootPath: v.rootPath,
      state: v.state,
      offlineReason: v.offlineReason,
      deviceId: v.deviceId,
      sameDevice: v.sameDevice,
      sameDeviceOverride: v.sameDeviceOverride,
      freeBytes: v.freeBytes === null ? null : Number(v.freeBytes),
      totalBytes: v.totalBytes === null ? null : Number(v.totalBytes),
      lastCheckedAt: v.lastCheckedAt?.toISOString() ?? null,
    };
  }
}

export class AllowedFoldersDto {
  @ApiProperty({ type: [String], description: 'Restores into NAS folders go only into these folders or below them' })
  restoreRoots!: string[];
  @ApiProperty({ type: [String], description: 'Disk targets are existing folders at or below these (empty: no disk targets)' })
  diskTargetRoots!: string[];
}

export class AdoptVolumeDto {
  @ApiProperty({ enum: VolumeRole, enumName: 'VolumeRole', description: 'The volume whose root now holds the right disk' })
  @IsEnum(VolumeRole)
  role!: VolumeRole;
}
