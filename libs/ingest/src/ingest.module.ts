import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { CatalogQueries } from '@studiovault/catalog';
import { VolumesModule } from '@studiovault/volumes';
import { IngestService } from './ingest.service';
import { TusUploads } from './tus-uploads';

@Module({
  imports: [AuditModule, VolumesModule],
  providers: [IngestService, TusUploads, CatalogQueries],
  exports: [IngestService, TusUploads, CatalogQueries],
})
export class IngestModule {}
