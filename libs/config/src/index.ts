export * from './config';
export * from './environment';
export * from './env-var.decorator';
export * from './config.module';
export * from './folders';
