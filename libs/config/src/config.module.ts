import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, CONFIG } from './config';

/** Provides the validated AppConfig (token CONFIG) to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
