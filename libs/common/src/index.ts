export * from './app-error';
export * from './request-context';
export * from './tokens';
export * from './error-status';
export * from './format';
export * from './database-unavailable';
