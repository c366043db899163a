export * from './app-error';
export * from './request-context';
export * from './tokens';
