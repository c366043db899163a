import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { BackupModule } from '@studiovault/backup';
import { IngestModule } from '@studiovault/ingest';
import { VolumesModule } from '@studiovault/volumes';
import { HealService } from './heal.service';
import { ScrubService } from './scrub.service';

@Module({
  imports: [AuditModule, VolumesModule, IngestModule, BackupModule],
  providers: [ScrubService, HealService],
  exports: [ScrubService, HealService],
})
export class IntegrityModule {}
