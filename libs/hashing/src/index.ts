export * from './aligned-buffers';
export * from './device-reader';
export * from './multi-hasher';
export * from './staging-file';
export * from './chunk-garbage';
