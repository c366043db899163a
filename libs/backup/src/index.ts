export * from './backup.module';
export * from './backup.service';
export * from './targets.service';
export * from './credentials-box';
export * from './object-layout';
export * from './retention-rules';
export * from './schedule';
export * from './throttle';
