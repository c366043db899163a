import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, CoreOptions } from '@studiovault/core';

/** The worker: the domain modules, whose @OnJob methods the JobRunner binds to queues. No HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return { module: WorkerModule, imports: [CoreModule.forRoot(options)] };
  }
}
