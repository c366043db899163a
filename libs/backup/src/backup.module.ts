import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { IngestModule } from '@studiovault/ingest';
import { VolumesModule } from '@studiovault/volumes';
import { BackupService } from './backup.service';
import { TargetsService } from './targets.service';

@Module({
  imports: [AuditModule, VolumesModule, IngestModule],
  providers: [TargetsService, BackupService],
  exports: [TargetsService, BackupService],
})
export class BackupModule {}
