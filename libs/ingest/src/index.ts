export * from './card-paths';
export * from './card-verdict';
export * from './dual-volume.store';
export * from './ingest.service';
export * from './volume-files';
export * from './ingest.module';
export * from './tus-uploads';
export * from './card-seal.service';
