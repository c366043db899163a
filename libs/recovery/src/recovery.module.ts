import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { VolumesModule } from '@studiovault/volumes';
import { BackupModule } from '@studiovault/backup';
import { IngestModule } from '@studiovault/ingest';
import { DrillService } from './drill.service';
import { RestoreService } from './restore.service';
import { RetentionService } from './retention.service';

@Module({
  imports: [AuditModule, VolumesModule, BackupModule, IngestModule],
  providers: [RestoreService, DrillService, RetentionService],
  exports: [RestoreService, DrillService, RetentionService],
})
export class RecoveryModule {}
