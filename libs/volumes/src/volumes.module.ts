import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@studiovault/audit';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { VolumeFsRepository } from './volume-fs.repository';
import { VolumesService } from './volumes.service';

@Module({
  imports: [TypeOrmModule.forFeature([StorageVolumeEntity]), AuditModule],
  providers: [VolumesService, VolumeFsRepository],
  exports: [VolumesService],
})
export class VolumesModule {}
