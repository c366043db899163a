export * from './core.module';
export * from './database';
