export * from './core.module';
export * from './database';
export * from './process-safety';
