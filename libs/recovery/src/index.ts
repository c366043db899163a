export * from './recovery.module';
export * from './restore.service';
export * from './restore-writer';
export * from './drill.service';
export * from './retention.service';
export * from './sources';
export * from './file-checks';
