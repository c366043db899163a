export * from './roles';
export * from './error-codes';
export * from './catalog';
