export * from './roles';
export * from './error-codes';
export * from './catalog';
export * from './offsite-layout';
export * from './restore-glob';
