import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { VolumeFsRepository } from './volume-fs.repository';
import { VolumesService } from './volumes.service';

@Module({
  imports: [TypeOrmModule.forFeature([StorageVolumeEntity])],
  providers: [VolumesService, VolumeFsRepository],
  exports: [VolumesService],
})
export class VolumesModule {}
