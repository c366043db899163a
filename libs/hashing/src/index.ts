export * from './device-reader';
export * from './multi-hasher';
