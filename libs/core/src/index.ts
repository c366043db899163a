export * from './core.module';
export * from './database';
export * from './log-format';
export * from './process-safety';
