import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@studiovault/audit';
import { ProjectEntity } from '@studiovault/catalog';
import { ProjectsService } from './projects.service';

@Module({
  imports: [TypeOrmModule.forFeature([ProjectEntity]), AuditModule],
  providers: [ProjectsService],
  exports: [ProjectsService],
})
export class ProjectsModule {}
