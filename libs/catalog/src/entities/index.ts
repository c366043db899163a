import { AlertChannelEntity, type AlertChannelKind } from './alert-channel.entity';
import { ApiTokenEntity } from './api-token.entity';
import { AssetEntity } from './asset.entity';
import { AuditEventEntity } from './audit-event.entity';
import { BackupRunEntity, type BackupRunError } from './backup-run.entity';
import { CardEntity } from './card.entity';
import { CopyEntity } from './copy.entity';
import { OffsiteTargetEntity } from './offsite-target.entity';
import { ProblemEntity } from './problem.entity';
import { ProjectEntity } from './project.entity';
import { RestoreDrillEntity } from './restore-drill.entity';
import { RetentionPolicyEntity } from './retention-policy.entity';
import { SessionEntity } from './session.entity';
import { SettingEntity } from './setting.entity';
import { StorageVolumeEntity } from './storage-volume.entity';
import { UploadEntity } from './upload.entity';
import { UserEntity } from './user.entity';

export type { AlertChannelKind, BackupRunError };
export {
  AlertChannelEntity,
  ApiTokenEntity,
  AssetEntity,
  AuditEventEntity,
  BackupRunEntity,
  CardEntity,
  CopyEntity,
  OffsiteTargetEntity,
  ProblemEntity,
  ProjectEntity,
  RestoreDrillEntity,
  RetentionPolicyEntity,
  SessionEntity,
  SettingEntity,
  StorageVolumeEntity,
  UploadEntity,
  UserEntity,
};

export const CATALOG_ENTITIES = [
  AlertChannelEntity,
  ApiTokenEntity,
  AssetEntity,
  AuditEventEntity,
  BackupRunEntity,
  CardEntity,
  CopyEntity,
  OffsiteTargetEntity,
  ProblemEntity,
  ProjectEntity,
  RestoreDrillEntity,
  RetentionPolicyEntity,
  SessionEntity,
  SettingEntity,
  StorageVolumeEntity,
  UploadEntity,
  UserEntity,
];
