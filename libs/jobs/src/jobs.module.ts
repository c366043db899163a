import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JOB_QUEUE_OPTIONS, JobQueue, JobQueueOptions } from './job-queue';
import { JobRunner } from './job-runner';

@Module({})
export class JobsModule {
  static forRoot(options: JobQueueOptions): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [{ provide: JOB_QUEUE_OPTIONS, useValue: options }, JobQueue, JobRunner],
      exports: [JobQueue, JobRunner],
    };
  }
}
