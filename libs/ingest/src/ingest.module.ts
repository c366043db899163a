import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { CatalogQueries } from '@studiovault/catalog';
import { VolumesModule } from '@studiovault/volumes';
import { CardSealService } from './card-seal.service';
import { CopyDamageService } from './copy-damage.service';
import { ExifReader } from './exif-reader';
import { IngestService } from './ingest.service';
import { TusUploads } from './tus-uploads';

@Module({
  imports: [AuditModule, VolumesModule],
  providers: [IngestService, CopyDamageService, CardSealService, ExifReader, TusUploads, CatalogQueries],
  exports: [IngestService, CopyDamageService, CardSealService, TusUploads, CatalogQueries],
})
export class IngestModule {}
