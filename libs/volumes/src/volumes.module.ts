import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@studiovault/audit';
import { StorageVolumeEntity } from '@studiovault/catalog';
import { AllowedFoldersService } from './allowed-folders.service';
import { VolumeFsRepository } from './volume-fs.repository';
import { VolumesService } from './volumes.service';

@Module({
  imports: [TypeOrmModule.forFeature([StorageVolumeEntity]), AuditModule],
  providers: [VolumesService, VolumeFsRepository, AllowedFoldersService],
  exports: [VolumesService, AllowedFoldersService],
})
export class VolumesModule {}
