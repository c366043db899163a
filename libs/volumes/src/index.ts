export * from './volume-fs.repository';
export * from './volumes.module';
export * from './volumes.service';
export * from './allowed-folders.service';
