export * from './embedded-postgres';
export * from './postgres-cluster';
